import { describe, expect, it } from 'vitest';
import {
  BIAS_EPILOGUE,
  CONVOLUTION_GEOMETRY_BYTES,
  RELU_EPILOGUE,
  RELU6_EPILOGUE,
} from '../src/matrix-product-wasm.js';
import { productModuleVariant, randomValues } from './backends.js';

interface Case {
  x: [number, number, number, number];
  filter: [number, number, number, number];
  stride: [number, number];
  /** Top and left padding; the output's size says how much falls after. */
  pad: [number, number];
  out: [number, number];
}

// Groups of 4 interior positions and a last partial one, border positions with taps in the padding on
// either side, a row whose window lies wholly in the padding, rectangular strides, one and two blocks
// of 8 outputs; groups that span rows and images (the tiny trunk's stride-2 'same' layers, padded only
// after, and a 'valid' convolution whose rows all have the same taps).
const CASES: Case[] = [
  { x: [2, 9, 11, 3], filter: [3, 3, 3, 8], stride: [2, 2], pad: [1, 1], out: [5, 6] },
  { x: [1, 7, 13, 5], filter: [5, 3, 5, 16], stride: [1, 2], pad: [2, 0], out: [7, 6] },
  { x: [2, 4, 6, 2], filter: [3, 3, 2, 8], stride: [3, 1], pad: [3, 1], out: [3, 6] },
  { x: [3, 8, 8, 4], filter: [3, 3, 4, 16], stride: [2, 2], pad: [0, 0], out: [4, 4] },
  { x: [3, 5, 7, 2], filter: [3, 3, 2, 8], stride: [1, 1], pad: [0, 0], out: [3, 5] },
];

/** y = conv(x, W) by its definition, zero padding, in double precision. */
function reference(c: Case, x: Float32Array, w: Float32Array): Float64Array {
  const [n, h, wd, ch] = c.x;
  const [fh, fw, , o] = c.filter;
  const [oh, ow] = c.out;
  const y = new Float64Array(n * oh * ow * o);
  for (let b = 0; b < n; b++) {
    for (let i = 0; i < oh; i++) {
      for (let j = 0; j < ow; j++) {
        for (let a = 0; a < fh; a++) {
          for (let k = 0; k < fw; k++) {
            const [r, s] = [i * c.stride[0] + a - c.pad[0], j * c.stride[1] + k - c.pad[1]];
            if (r < 0 || r >= h || s < 0 || s >= wd) continue;
            for (let d = 0; d < ch; d++) {
              const value = x[((b * h + r) * wd + s) * ch + d];
              for (let q = 0; q < o; q++) {
                y[((b * oh + i) * ow + j) * o + q] += value * w[((a * fw + k) * ch + d) * o + q];
              }
            }
          }
        }
      }
    }
  }
  return y;
}

describe.each(['fused', 'separate'] as const)('convolutionRows (%s multiply-adds)', (variant) => {
  const { supported, memory, instantiate } = productModuleVariant(variant, 4);

  const epilogues = [
    { epilogue: 0, name: 'no epilogue' },
    { epilogue: BIAS_EPILOGUE, name: 'the bias added' },
    { epilogue: RELU_EPILOGUE, name: 'the bias added, then a ReLU' },
    { epilogue: RELU6_EPILOGUE, name: 'the bias added, then a ReLU6' },
  ];
  it.runIf(supported).each(CASES.flatMap((c) => epilogues.map((e) => ({ ...c, ...e }))))(
    'computes the rows asked for by definition, $name: x $x, filter $filter, stride $stride',
    (c) => {
      const { packPanels, convolutionRows } = instantiate();
      const floats = new Float32Array(memory.buffer);
      const [n, h, wd, ch] = c.x;
      const [fh, fw, , o] = c.filter;
      const [oh, ow] = c.out;
      const interiorStart = Math.ceil(c.pad[1] / c.stride[1]);
      const interiorEnd = Math.max(
        interiorStart,
        Math.min(ow, Math.floor((wd + c.pad[1] - fw) / c.stride[1]) + 1),
      );
      const [xSize, wSize, ySize] = [n * h * wd * ch, fh * fw * ch * o, n * oh * ow * o];
      // x unaligned on purpose; packed W, y and the bias as the kernel allocates them.
      const xAt = 3;
      const wAt = xAt + xSize + 1;
      const packedAt = 4 * Math.ceil((wAt + wSize) / 4);
      const yAt = packedAt + wSize;
      const biasAt = yAt + ySize;
      const geometryAt = biasAt + o + 4;
      const geometry = [
        ...[oh, ow, fh, fw, ch, o, h, wd, ...c.stride, ...c.pad, interiorStart, interiorEnd],
        ...[4 * biasAt, c.epilogue],
      ];
      expect(geometry.length * 4).toBe(CONVOLUTION_GEOMETRY_BYTES);
      const x = randomValues(xSize, 91);
      const w = randomValues(wSize, 92);
      // Biases up to +-6, so that the ReLU6 clips outputs at both ends.
      const bias = randomValues(o, 93).map((v) => 6 * v);
      floats.set(x, xAt);
      floats.set(w, wAt);
      floats.set(bias, biasAt);
      floats.fill(Number.NaN, yAt, yAt + ySize);
      new Int32Array(memory.buffer, 4 * geometryAt, geometry.length).set(geometry);
      packPanels(4 * wAt, 4 * o, 4, 4 * packedAt, fh * fw * ch, o);
      // Rows 1 .. end: row 0 stays as it was.
      convolutionRows(4 * geometryAt, 4 * xAt, 4 * packedAt, 4 * yAt, 1, n * oh);
      const y = floats.subarray(yAt, yAt + ySize);
      const expected = reference(c, x, w).map((value, k) => {
        if (c.epilogue === 0) return value;
        const biased = value + bias[k % o];
        if (c.epilogue === RELU6_EPILOGUE) return Math.min(Math.max(biased, 0), 6);
        return c.epilogue === RELU_EPILOGUE ? Math.max(biased, 0) : biased;
      });
      const rowValues = ow * o;
      for (let k = 0; k < ySize; k++) {
        if (k < rowValues) expect(y[k]).toBeNaN();
        else expect(y[k]).toBeCloseTo(expected[k], 5);
      }
    },
  );
});
