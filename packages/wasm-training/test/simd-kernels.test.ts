import { readFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, describe, expect, it } from 'vitest';
import { assembleSimdKernels, GENERATED_FILE } from '../scripts/gen-wasm.js';
import { transposeMatrices } from '../src/matrix-transpose.js';
import { type SlidingWindow, simdKernels } from '../src/simd-kernels.js';
import { randomValues, useBackend } from './backends.js';

afterAll(async () => {
  await useBackend('cpu');
});

// Sizes below, at and past multiples of 4 on both sides, so that blocks and the JS edges both take part.
const SHAPES: Array<[number, number]> = [
  [1, 1],
  [3, 5],
  [4, 4],
  [7, 13],
  [37, 64],
  [64, 130],
  [130, 5],
];

describe.each([false, true])('SIMD block transpose on a wasm memory (shared %s)', (shared) => {
  const memory = new WebAssembly.Memory({ initial: 4, maximum: 65536, shared });
  const kernels = simdKernels({ wasm: shared ? { wasmMemory: memory } : { asm: { memory } } });
  const blocks = kernels?.transposeBlocks;

  it.each(SHAPES)('transposes a batch of two [%i, %i] matrices like the JS loop', (rows, cols) => {
    expect(blocks).toBeDefined();
    const size = 2 * rows * cols;
    // Unaligned on purpose: the second matrix of the batch starts at any float offset.
    const source = new Float32Array(memory.buffer, 4 * 8, size);
    const target = new Float32Array(memory.buffer, 4 * (16 + size), size);
    source.set(randomValues(size, rows * 100 + cols));
    const expected = new Float32Array(size);
    const matrices = { batch: 2, rows, cols, inner: 1 };
    transposeMatrices(source, matrices, expected);
    target.fill(Number.NaN);
    transposeMatrices(source, matrices, target, blocks);
    expect(Array.from(target)).toEqual(Array.from(expected));
  });

  it('declines views of other memory, which the JS loop then takes', () => {
    const source = Float32Array.from({ length: 12 }, (_, k) => k);
    const target = new Float32Array(12);
    expect(blocks?.(source, target, 4, 3)).toBe(false);
    transposeMatrices(source, { batch: 1, rows: 4, cols: 3, inner: 1 }, target, blocks);
    expect(Array.from(target)).toEqual([0, 3, 6, 9, 1, 4, 7, 10, 2, 5, 8, 11]);
  });
});

// Vectors of 4 channels and the scalar rest, strides 1 and 2, non-square filters and windows.
const DEPTHWISE_WINDOWS: SlidingWindow[] = [
  {
    batch: 2,
    height: 7,
    width: 8,
    channels: 6,
    outHeight: 5,
    outWidth: 6,
    filterHeight: 3,
    filterWidth: 3,
    strides: [1, 1],
    padding: [0, 0],
  },
  {
    batch: 1,
    height: 9,
    width: 10,
    channels: 8,
    outHeight: 4,
    outWidth: 5,
    filterHeight: 3,
    filterWidth: 2,
    strides: [2, 2],
    padding: [0, 0],
  },
  {
    batch: 3,
    height: 5,
    width: 9,
    channels: 3,
    outHeight: 5,
    outWidth: 4,
    filterHeight: 1,
    filterWidth: 3,
    strides: [1, 2],
    padding: [0, 0],
  },
  // 23 channels: sixteen summed four vectors at a time, then one vector, then three one by one.
  {
    batch: 2,
    height: 6,
    width: 7,
    channels: 23,
    outHeight: 4,
    outWidth: 5,
    filterHeight: 3,
    filterWidth: 3,
    strides: [1, 1],
    padding: [0, 0],
  },
  // Padding: taps above, left of, below and right of x skipped ('same' at strides 1 and 2, a wide pad at
  // stride 3 whose first and last taps miss whole rows and columns, a 1-row image).
  {
    batch: 2,
    height: 6,
    width: 7,
    channels: 20,
    outHeight: 6,
    outWidth: 7,
    filterHeight: 3,
    filterWidth: 3,
    strides: [1, 1],
    padding: [1, 1],
  },
  {
    batch: 1,
    height: 9,
    width: 10,
    channels: 8,
    outHeight: 5,
    outWidth: 5,
    filterHeight: 3,
    filterWidth: 3,
    strides: [2, 2],
    padding: [1, 0],
  },
  {
    batch: 2,
    height: 5,
    width: 5,
    channels: 4,
    outHeight: 3,
    outWidth: 3,
    filterHeight: 5,
    filterWidth: 4,
    strides: [3, 3],
    padding: [2, 2],
  },
  {
    batch: 2,
    height: 1,
    width: 9,
    channels: 7,
    outHeight: 1,
    outWidth: 5,
    filterHeight: 5,
    filterWidth: 5,
    strides: [2, 2],
    padding: [2, 2],
  },
];

/** The gradient by definition, summed in float64. */
function depthwiseFilterGradientByDefinition(
  x: Float32Array,
  dy: Float32Array,
  w: SlidingWindow,
): Float32Array {
  const { batch, height, width, channels: c, outHeight, outWidth, filterHeight, filterWidth, strides } = w;
  const [padTop, padLeft] = w.padding;
  const out = new Float32Array(filterHeight * filterWidth * c);
  for (let a = 0; a < filterHeight; a++)
    for (let b = 0; b < filterWidth; b++)
      for (let ch = 0; ch < c; ch++) {
        let sum = 0;
        for (let n = 0; n < batch; n++)
          for (let i = 0; i < outHeight; i++)
            for (let j = 0; j < outWidth; j++) {
              const row = i * strides[0] + a - padTop;
              const col = j * strides[1] + b - padLeft;
              if (row < 0 || row >= height || col < 0 || col >= width) continue;
              sum +=
                x[((n * height + row) * width + col) * c + ch] *
                dy[((n * outHeight + i) * outWidth + j) * c + ch];
            }
        out[(a * filterWidth + b) * c + ch] = sum;
      }
  return out;
}

describe.each([false, true])('SIMD depthwise filter gradient on a wasm memory (shared %s)', (shared) => {
  const memory = new WebAssembly.Memory({ initial: 4, maximum: 65536, shared });
  const gradient = simdKernels({
    wasm: shared ? { wasmMemory: memory } : { asm: { memory } },
  })?.depthwiseFilterGradient;

  it.each(DEPTHWISE_WINDOWS)(
    'equals the definition for x of $height x $width x $channels, strides $strides, padding $padding',
    (w) => {
      expect(gradient).toBeDefined();
      const xSize = w.batch * w.height * w.width * w.channels;
      const dySize = w.batch * w.outHeight * w.outWidth * w.channels;
      const outSize = w.filterHeight * w.filterWidth * w.channels;
      // Unaligned on purpose, and `out` starts dirty: the kernel must overwrite it.
      const x = new Float32Array(memory.buffer, 4 * 3, xSize);
      const dy = new Float32Array(memory.buffer, x.byteOffset + 4 * xSize, dySize);
      const out = new Float32Array(memory.buffer, dy.byteOffset + 4 * dySize, outSize);
      x.set(randomValues(xSize, 41));
      dy.set(randomValues(dySize, 42));
      out.fill(Number.NaN);
      expect(gradient?.(x, dy, out, w)).toBe(true);
      const expected = depthwiseFilterGradientByDefinition(x, dy, w);
      for (let k = 0; k < outSize; k++) expect(out[k]).toBeCloseTo(expected[k], 5);
    },
  );

  it('declines views of other memory', () => {
    const [w] = DEPTHWISE_WINDOWS;
    const x = new Float32Array(w.batch * w.height * w.width * w.channels);
    const dy = new Float32Array(w.batch * w.outHeight * w.outWidth * w.channels);
    const out = new Float32Array(w.filterHeight * w.filterWidth * w.channels).fill(7);
    expect(gradient?.(x, dy, out, w)).toBe(false);
    expect(out.every((v) => v === 7)).toBe(true);
  });
});

describe.each([false, true])('SIMD zeros on a wasm memory (shared %s)', (shared) => {
  const memory = new WebAssembly.Memory({ initial: 1, maximum: 65536, shared });
  const kernels = simdKernels(shared ? { wasm: { wasmMemory: memory } } : { wasm: { asm: { memory } } });

  it.each([1, 4, 7, 33])('zeros %i values from an unaligned start, and nothing around them', (count) => {
    const around = new Float32Array(memory.buffer, 4, count + 2);
    around.fill(Number.NaN);
    expect(kernels?.zero(around.subarray(1, count + 1))).toBe(true);
    expect(around[0]).toBeNaN();
    expect(around[count + 1]).toBeNaN();
    expect(Array.from(around.subarray(1, count + 1))).toEqual(new Array(count).fill(0));
    expect(kernels?.zero(new Float32Array(4))).toBe(false);
  });
});

describe.each([false, true])('SIMD row deinterleave on a wasm memory (shared %s)', (shared) => {
  const memory = new WebAssembly.Memory({ initial: 4, maximum: 65536, shared });
  const deinterleave = simdKernels({
    wasm: shared ? { wasmMemory: memory } : { asm: { memory } },
  })?.deinterleaveRows;

  it.each([1, 2, 7, 8, 9, 16, 17])('splits every other row of width %i by column parity', (width) => {
    expect(deinterleave).toBeDefined();
    const [rowStride, count] = [2 * width + 3, 3];
    const source = new Float32Array(memory.buffer, 4 * 3, rowStride * count);
    source.set(randomValues(source.length, width));
    const target = new Float32Array(
      memory.buffer,
      source.byteOffset + 4 * source.length,
      2 * width * count + 5,
    );
    target.fill(Number.NaN);
    const [evenWidth, oddWidth] = [Math.ceil(width / 2), Math.floor(width / 2)];
    const rows = { from: 1, rowStride, count, width, even: 2, odd: 2 + evenWidth * count };
    expect(deinterleave?.(source, target, rows)).toBe(true);
    for (let t = 0; t < count; t++) {
      for (let k = 0; k < width; k++) {
        const at = k % 2 === 0 ? rows.even + t * evenWidth + k / 2 : rows.odd + t * oddWidth + (k - 1) / 2;
        expect(target[at]).toBe(source[rows.from + t * rowStride + k]);
      }
    }
    expect(target[0]).toBeNaN();
    expect(target[rows.odd + oddWidth * count]).toBeNaN();
  });

  it('declines views of other memory', () => {
    const target = new Float32Array(4).fill(7);
    const rows = { from: 0, rowStride: 4, count: 1, width: 4, even: 0, odd: 2 };
    expect(deinterleave?.(new Float32Array(4), target, rows)).toBe(false);
    expect(Array.from(target)).toEqual([7, 7, 7, 7]);
  });
});

describe('SIMD kernels', () => {
  it('are what src/simd-kernels.wat assembles to (run gen:wasm after editing it)', async () => {
    expect(readFileSync(GENERATED_FILE, 'utf8')).toBe(await assembleSimdKernels());
  });

  it("runs on the wasm backend's own memory", async () => {
    await useBackend('wasm');
    expect(simdKernels(tf.backend())).not.toBeNull();
    expect(simdKernels({})).toBeNull();
  });
});

describe('column sums on a wasm memory past 2 GiB', () => {
  it('takes byte offsets above 2^31 (where bitwise arithmetic turns them negative), float64 totals', () => {
    // 2 GiB + 1 MiB, untouched but for the few pages used here.
    const memory = new WebAssembly.Memory({ initial: 2 ** 15 + 16 });
    const kernels = simdKernels({ wasm: { asm: { memory } } });
    const [rows, width] = [501, 6];
    // An odd float offset, as tensors in wasm's heap may have: the float64 sums start at the next 8 bytes.
    const at = 2 ** 31 + 4 * 3;
    const values = new Float32Array(memory.buffer, at, rows * width);
    const scratch = new Float32Array(
      memory.buffer,
      at + 4 * values.length,
      kernels!.columnSumsScratch(rows, width),
    );
    const out = new Float32Array(memory.buffer, scratch.byteOffset + 4 * scratch.length, width);
    // 2^24 then ones: float32 totals would stay at 2^24.
    values.fill(1);
    values.fill(2 ** 24, 0, width);
    expect(kernels?.columnSums(values, rows, width, out, scratch)).toBe(true);
    expect(Array.from(out)).toEqual(new Array(width).fill(2 ** 24 + rows - 1));
  });
});
