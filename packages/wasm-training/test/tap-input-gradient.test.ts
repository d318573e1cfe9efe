import { describe, expect, it } from 'vitest';
import { INPUT_TAP_RECORD_BYTES } from '../src/matrix-product-wasm.js';
import { productModuleVariant, randomValues } from './backends.js';

// One and three blocks of 8 dx channels; few and many dy channels (the multiply-adds' steps); dy positions
// in groups of 4 and a last group of 1 (5 cols) or 3 (3 cols).
const TAPS: Array<{ channels: number; outChannels: number; cols: number }> = [
  { channels: 8, outChannels: 3, cols: 5 },
  { channels: 8, outChannels: 16, cols: 3 },
  { channels: 24, outChannels: 5, cols: 5 },
];

/** dy [3, 5, 6, O] from position (1, 1), 4 rows; dx [3, 11, 13, C] from pixel (2, 1) at stride 2. */
const [IMAGES, ROWS] = [3, 4];
const DY = { height: 5, width: 6, row: 1, col: 1 };
const DX = { height: 11, width: 13, row: 2, col: 1, stride: 2 };

describe.each(['fused', 'separate'] as const)('inputGradientTaps (%s multiply-adds)', (variant) => {
  const { supported, memory, instantiate } = productModuleVariant(variant, 4);

  it.runIf(supported).each(TAPS)(
    'adds each record its tap by definition to the images asked for: $channels channels, $outChannels outputs, $cols cols',
    ({ channels, outChannels, cols }) => {
      const { packPanels, inputGradientTaps } = instantiate();
      const floats = new Float32Array(memory.buffer);
      const dyImage = DY.height * DY.width * outChannels;
      const dxImage = DX.height * DX.width * channels;
      const tapSize = outChannels * channels;
      const packedSize = Math.ceil(channels / 8) * 8 * outChannels;
      // dy and dx unaligned on purpose (the packed filter is aligned, as the kernel allocates it).
      const dyAt = 3;
      const dxAt = dyAt + IMAGES * dyImage + 1;
      const filterAt = dxAt + IMAGES * dxImage + 2;
      const packedAt = 4 * Math.ceil((filterAt + tapSize) / 4);
      const recordsAt = packedAt + packedSize;
      floats.set(randomValues(IMAGES * dyImage, 81), dyAt);
      floats.set(randomValues(IMAGES * dxImage, 82), dxAt);
      const filter = randomValues(tapSize, 83);
      floats.set(filter, filterAt);
      const before = floats.slice(dxAt, dxAt + IMAGES * dxImage);
      // W^T: element (o, c) at filter[c outChannels + o].
      packPanels(4 * filterAt, 4, 4 * outChannels, 4 * packedAt, outChannels, channels);
      const record = [
        4 * (DY.row * DY.width + DY.col) * outChannels,
        4 * (DX.row * DX.width + DX.col) * channels,
        0,
        ROWS,
        cols,
        4 * DY.width * outChannels,
        4 * DX.stride * DX.width * channels,
        4 * DX.stride * channels,
        4 * dyImage,
        4 * dxImage,
      ];
      expect(record.length * 4).toBe(INPUT_TAP_RECORD_BYTES);
      // The same record twice: each image asked for gets the tap's sums twice.
      const fields = new Int32Array(memory.buffer, 4 * recordsAt, 2 * record.length);
      fields.set([...record, ...record]);
      inputGradientTaps(4 * recordsAt, 2, 4 * dyAt, 4 * dxAt, 4 * packedAt, 1, IMAGES, channels, outChannels);
      const dx = floats.subarray(dxAt, dxAt + IMAGES * dxImage);
      const expected = Float64Array.from(before);
      for (let n = 1; n < IMAGES; n++) {
        for (let i = 0; i < ROWS; i++) {
          for (let j = 0; j < cols; j++) {
            const dyPixel = dyAt + n * dyImage + ((DY.row + i) * DY.width + DY.col + j) * outChannels;
            const pixel =
              n * dxImage + ((DX.row + DX.stride * i) * DX.width + DX.col + DX.stride * j) * channels;
            for (let c = 0; c < channels; c++) {
              let sum = 0;
              for (let o = 0; o < outChannels; o++) sum += floats[dyPixel + o] * filter[c * outChannels + o];
              expected[pixel + c] += 2 * sum;
            }
          }
        }
      }
      // Image 0 and every pixel no position maps to stay exactly as they were.
      for (let k = 0; k < dx.length; k++) {
        if (expected[k] === before[k]) expect(dx[k]).toBe(before[k]);
        else expect(dx[k]).toBeCloseTo(expected[k], 5);
      }
    },
  );
});
