import { describe, expect, it } from 'vitest';
import { TAP_RECORD_BYTES } from '../src/matrix-product-wasm.js';
import { productModuleVariant, randomValues } from './backends.js';

// Channel blocks of 4 and partial ones (1, 2, 3 channels), one and several output blocks of 8, positions
// strided in x (a tap of a stride-2 filter) and a subrectangle of dy's rows and columns.
const TAPS: Array<{ channels: number; outChannels: number }> = [
  { channels: 3, outChannels: 8 },
  { channels: 5, outChannels: 16 },
  { channels: 6, outChannels: 8 },
  { channels: 8, outChannels: 24 },
];

/** x [2, 9, 10, C] read at stride 2 from pixel (1, 1); dy [2, 5, 6, O] from pixel (1, 2): 4 rows, 3 cols. */
const [IMAGES, ROWS, COLS] = [2, 4, 3];

describe.each(['fused', 'separate'] as const)('filterGradientTaps (%s multiply-adds)', (variant) => {
  const { supported, memory, instantiate } = productModuleVariant(variant, 4);

  it.runIf(supported).each(TAPS)(
    'adds each record its tap by definition: $channels channels, $outChannels outputs',
    ({ channels, outChannels }) => {
      const { filterGradientTaps } = instantiate();
      const floats = new Float32Array(memory.buffer);
      const xSize = IMAGES * 9 * 10 * channels;
      const dySize = IMAGES * 5 * 6 * outChannels;
      const block = channels * outChannels;
      // Unaligned on purpose: x, dy, out (three taps' blocks), then the records.
      const xAt = 3;
      const dyAt = xAt + xSize + 1;
      const outAt = dyAt + dySize + 2;
      const recordsAt = outAt + 3 * block + 1;
      floats.set(randomValues(xSize, 71), xAt);
      floats.set(randomValues(dySize, 72), dyAt);
      floats.set(randomValues(3 * block, 73), outAt);
      const before = floats.slice(outAt, outAt + 3 * block);
      const tap = {
        first: (1 * 10 + 1) * channels,
        image: 9 * 10 * channels,
        row: 2 * 10 * channels,
        col: 2 * channels,
        dyFirst: (1 * 6 + 2) * outChannels,
        dyImage: 5 * 6 * outChannels,
        dyRow: 6 * outChannels,
      };
      // Record 0 (not run) would add onto block 0; records 1 and 2 add the same tap onto block 2, so
      // that block 1 stays as it was and block 2 gets the tap's sums twice.
      const record = [
        4 * tap.first,
        4 * tap.dyFirst,
        0,
        IMAGES,
        ROWS,
        COLS,
        4 * tap.image,
        4 * tap.row,
        4 * tap.col,
        4 * tap.dyImage,
        4 * tap.dyRow,
      ];
      expect(record.length * 4).toBe(TAP_RECORD_BYTES);
      const fields = new Int32Array(memory.buffer, 4 * recordsAt, 3 * record.length);
      fields.set(record, 0);
      fields.set([...record.slice(0, 2), 8 * block, ...record.slice(3)], record.length);
      fields.set([...record.slice(0, 2), 8 * block, ...record.slice(3)], 2 * record.length);
      filterGradientTaps(4 * recordsAt, 1, 3, 4 * xAt, 4 * dyAt, 4 * outAt, channels, outChannels);
      const out = floats.subarray(outAt, outAt + 3 * block);
      expect(Array.from(out.subarray(0, 2 * block))).toEqual(Array.from(before.subarray(0, 2 * block)));
      for (let c = 0; c < channels; c++) {
        for (let o = 0; o < outChannels; o++) {
          let sum = 0;
          for (let n = 0; n < IMAGES; n++) {
            for (let i = 0; i < ROWS; i++) {
              for (let j = 0; j < COLS; j++) {
                const pixel = xAt + tap.first + n * tap.image + i * tap.row + j * tap.col;
                const dyPixel = dyAt + tap.dyFirst + n * tap.dyImage + i * tap.dyRow + j * outChannels;
                sum += floats[pixel + c] * floats[dyPixel + o];
              }
            }
          }
          const k = 2 * block + c * outChannels + o;
          expect(out[k]).toBeCloseTo(before[k] + 2 * sum, 5);
        }
      }
    },
  );

  it.runIf(supported)('sums copies in order into out, leaving the copies as they were', () => {
    const { sumCopies } = instantiate();
    const [count, size, copiesAt, outAt] = [3, 8, 5, 40];
    const floats = new Float32Array(memory.buffer);
    const copies = randomValues(count * size, 74);
    floats.set(copies, copiesAt);
    floats.fill(Number.NaN, outAt, outAt + size + 1);
    sumCopies(4 * copiesAt, count, size, 4 * outAt);
    for (let k = 0; k < size; k++) {
      // float32 additions in order: (c0 + c1) + c2.
      const inOrder = Math.fround(Math.fround(copies[k] + copies[size + k]) + copies[2 * size + k]);
      expect(floats[outAt + k]).toBe(inOrder);
    }
    expect(floats[outAt + size]).toBeNaN();
    expect(floats.subarray(copiesAt, copiesAt + count * size)).toEqual(copies);
  });
});
