import { describe, expect, it } from 'vitest';
import { convGeometry } from '../src/conv-geometry.js';
import {
  col2imAdd,
  phaseTap,
  setWindowMatrixBudget,
  splitPhases,
  tapColumns,
  windowChunks,
} from '../src/im2col.js';
import { asBatchedMatrices, transposeMatrices } from '../src/matrix-transpose.js';
import { simdKernels } from '../src/simd-kernels.js';
import { randomValues } from './backends.js';

const geometry = (x: number[], filter: number[], stride: number, pad: 'same' | 'valid') =>
  convGeometry('test', x as never, filter as never, stride, 1, pad, undefined, false);

/**
 * The window matrix [M, fh fw C] as a list, assembled from `tapColumns` (each tap's [C, M] block) of x
 * [N, H, W, C] given as x^T.
 */
function windowRows(
  x: Float32Array,
  g: ReturnType<typeof geometry>,
  channels: number,
  firstColumn: number,
  columns: number,
) {
  const pixels = x.length / channels;
  const xT = Float32Array.from(
    { length: x.length },
    (_, t) => x[(t % pixels) * channels + Math.floor(t / pixels)],
  );
  const rows = new Array<number>(columns * g.filterHeight * g.filterWidth * channels);
  const taps = new Float32Array(channels * columns).fill(Number.NaN);
  for (let a = 0; a < g.filterHeight; a++) {
    for (let b = 0; b < g.filterWidth; b++) {
      tapColumns(xT, g, [a, b], firstColumn, taps);
      for (let c = 0; c < channels; c++) {
        for (let m = 0; m < columns; m++) {
          rows[(m * g.filterHeight * g.filterWidth + a * g.filterWidth + b) * channels + c] =
            taps[c * columns + m];
        }
      }
    }
  }
  return rows;
}

describe('tapColumns', () => {
  it('lists each 2x2 window of a 3x3 image as a row (stride 1, valid)', () => {
    const x = Float32Array.from([1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(windowRows(x, geometry([1, 3, 3, 1], [2, 2, 1, 1], 1, 'valid'), 1, 0, 4)).toEqual([
      1, 2, 4, 5, 2, 3, 5, 6, 4, 5, 7, 8, 5, 6, 8, 9,
    ]);
  });

  it('fills the padding with zeros and keeps channels together (3x3, stride 2, same)', () => {
    // x[0, y, x, c] = 10 (3 y + x) + c on a 3x3 image with 2 channels; 'same' pads 1 on each side.
    const x = Float32Array.from({ length: 18 }, (_, k) => 10 * Math.floor(k / 2) + (k % 2));
    const g = geometry([1, 3, 3, 2], [3, 3, 2, 1], 2, 'same');
    expect([g.outHeight, g.outWidth, g.padTop, g.padLeft]).toEqual([2, 2, 1, 1]);
    const pixel = (y: number, xx: number) =>
      y < 0 || y > 2 || xx < 0 || xx > 2 ? [0, 0] : [10 * (3 * y + xx), 10 * (3 * y + xx) + 1];
    const expected: number[] = [];
    for (const [i, j] of [
      [0, 0],
      [0, 1],
      [1, 0],
      [1, 1],
    ]) {
      for (let a = 0; a < 3; a++)
        for (let b = 0; b < 3; b++) expected.push(...pixel(2 * i + a - 1, 2 * j + b - 1));
    }
    expect(windowRows(x, g, 2, 0, 4)).toEqual(expected);
  });

  it('starts at the given output position, also inside an image', () => {
    const x = Float32Array.from({ length: 18 }, (_, k) => k); // 2 images of 3x3x1
    const g = geometry([2, 3, 3, 1], [2, 2, 1, 1], 1, 'valid'); // 2x2 positions per image
    expect(windowRows(x, g, 1, 4, 1)).toEqual([9, 10, 12, 13]);
    // The last position of image 0, then the first two of image 1.
    expect(windowRows(x, g, 1, 3, 3)).toEqual([4, 5, 7, 8, 9, 10, 12, 13, 10, 11, 13, 14]);
  });

  it('equals the definition for every chunk, at stride 1 (one shifted copy) and stride 2', () => {
    const x = randomValues(2 * 5 * 4 * 3, 7);
    for (const [filter, stride, pad] of [
      [[3, 3, 3, 1], 1, 'same'],
      [[2, 2, 3, 1], 1, 'same'],
      [[3, 3, 3, 1], 2, 'same'],
      [[3, 2, 3, 1], 1, 'valid'],
    ] as const) {
      const g = geometry([2, 5, 4, 3], [...filter], stride, pad);
      const positions = 2 * g.outHeight * g.outWidth;
      const definition = (m: number, a: number, b: number, c: number) => {
        const [n, i, j] = [
          Math.floor(m / (g.outHeight * g.outWidth)),
          Math.floor(m / g.outWidth) % g.outHeight,
          m % g.outWidth,
        ];
        const [y, xx] = [stride * i + a - g.padTop, stride * j + b - g.padLeft];
        return y < 0 || y >= 5 || xx < 0 || xx >= 4 ? 0 : x[((n * 5 + y) * 4 + xx) * 3 + c];
      };
      for (const [first, count] of [
        [0, positions],
        [3, positions - 5],
        [positions - 1, 1],
      ]) {
        const expected: number[] = [];
        for (let m = first; m < first + count; m++)
          for (let a = 0; a < g.filterHeight; a++)
            for (let b = 0; b < g.filterWidth; b++)
              for (let c = 0; c < 3; c++) expected.push(definition(m, a, b, c));
        expect(windowRows(x, g, 3, first, count)).toEqual(expected);
      }
    }
  });

  it.each([
    { x: [2, 9, 8, 3], filter: [3, 3, 3, 1], stride: 2, pad: 'same' },
    { x: [1, 17, 16, 2], filter: [7, 7, 2, 1], stride: 2, pad: 'same' },
    { x: [2, 10, 11, 3], filter: [3, 3, 3, 1], stride: 3, pad: 'valid' },
    { x: [1, 1, 1, 2], filter: [3, 3, 2, 1], stride: 2, pad: 'same' },
  ] as const)('reads the same taps from stride phases (x $x, filter $filter, stride $stride $pad)', (c) => {
    const g = geometry([...c.x], [...c.filter], c.stride, c.pad);
    const channels = c.x[3];
    const xT = randomValues(c.x[0] * c.x[1] * c.x[2] * channels, 9);
    const phases = new Float32Array(xT.length).fill(Number.NaN);
    splitPhases(xT, g, phases);
    if (c.stride === 2) {
      // The SIMD split (rows by column parity) on a wasm memory gives the same phases.
      const memory = new WebAssembly.Memory({ initial: 1 });
      const inMemory = new Float32Array(memory.buffer, 0, 2 * xT.length);
      inMemory.set(xT);
      inMemory.fill(Number.NaN, xT.length);
      const simdPhases = inMemory.subarray(xT.length);
      splitPhases(
        inMemory.subarray(0, xT.length),
        g,
        simdPhases,
        simdKernels({ wasm: { asm: { memory } } })?.deinterleaveRows,
      );
      expect(Array.from(simdPhases)).toEqual(Array.from(phases));
    }
    const positions = c.x[0] * g.outHeight * g.outWidth;
    const chunks =
      positions > 2
        ? [
            [0, positions],
            [1, positions - 2],
          ]
        : [[0, positions]];
    for (const [first, count] of chunks) {
      for (let a = 0; a < g.filterHeight; a++) {
        for (let b = 0; b < g.filterWidth; b++) {
          const direct = new Float32Array(channels * count);
          tapColumns(xT, g, [a, b], first, direct);
          const phase = phaseTap(g, channels, [a, b]);
          // An input smaller than the stride leaves phases empty: those taps read x^T itself.
          if (phase === null) continue;
          const fromPhase = new Float32Array(channels * count).fill(Number.NaN);
          tapColumns(
            phases.subarray(phase.offset, phase.offset + phase.length),
            phase.g,
            [0, 0],
            first,
            fromPhase,
          );
          expect(Array.from(fromPhase)).toEqual(Array.from(direct));
        }
      }
    }
  });

  it('has col2imAdd as its adjoint: <im2col(x), Y> = <x, col2im(Y)>', () => {
    const g = geometry([2, 7, 6, 3], [3, 3, 3, 1], 2, 'same');
    const x = randomValues(2 * 7 * 6 * 3, 5);
    const y = randomValues(2 * g.outHeight * g.outWidth * 27, 6);
    const cols = Float32Array.from(windowRows(x, g, 3, 0, 2 * g.outHeight * g.outWidth));
    const back = new Float32Array(x.length);
    col2imAdd(y, g, 3, 0, back);
    const dot = (p: Float32Array, q: Float32Array) => p.reduce((sum, v, k) => sum + v * q[k], 0);
    expect(dot(cols, y)).toBeCloseTo(dot(x, back), 4);
  });

  // Strides 1 and 2, 'same' and 'valid', channel counts with and without a tail past 4, chunks from 0 and
  // from inside the batch, a filter wider than the image.
  it.each([false, true])('col2imAdd in the SIMD module equals the JS one (shared memory %s)', (shared) => {
    const memory = new WebAssembly.Memory({ initial: 64, maximum: 65536, shared });
    const kernels = simdKernels(shared ? { wasm: { wasmMemory: memory } } : { wasm: { asm: { memory } } });
    const cases: Array<[number[], number[], number, 'same' | 'valid', number]> = [
      [[2, 7, 6, 3], [3, 3, 3, 1], 2, 'same', 0],
      [[2, 9, 8, 8], [3, 3, 8, 1], 2, 'same', 5],
      [[1, 12, 11, 6], [7, 7, 6, 1], 2, 'same', 0],
      [[2, 6, 7, 5], [3, 3, 5, 1], 1, 'valid', 3],
      [[1, 4, 3, 4], [5, 5, 4, 1], 1, 'same', 0],
    ];
    for (const [shape, filter, stride, pad, firstColumn] of cases) {
      const g = geometry(shape, filter, stride, pad);
      const channels = shape[3];
      const columns = shape[0] * g.outHeight * g.outWidth - firstColumn;
      const windowSize = g.filterHeight * g.filterWidth * channels;
      const cols = new Float32Array(memory.buffer, 64, columns * windowSize);
      cols.set(randomValues(cols.length, 7));
      const dx = new Float32Array(
        memory.buffer,
        cols.byteOffset + cols.byteLength + 16,
        shape.reduce((p, d) => p * d),
      );
      dx.set(randomValues(dx.length, 8));
      const expected = Float32Array.from(dx);
      col2imAdd(Float32Array.from(cols), g, channels, firstColumn, expected);
      expect(kernels?.col2imAdd(cols, g, channels, firstColumn, dx)).toBe(true);
      expect(Array.from(dx)).toEqual(Array.from(expected));
    }
    const outside = new Float32Array(27);
    expect(kernels?.col2imAdd(outside, geometry([1, 3, 3, 3], [3, 3, 3, 1], 1, 'valid'), 3, 0, outside)).toBe(
      false,
    );
  });

  it('chunks output positions so that each window matrix fits the budget, at least one each', () => {
    const g = geometry([5, 8, 8, 4], [3, 3, 4, 1], 1, 'same'); // 320 positions, 36 values each
    expect(windowChunks(g, 36)).toEqual([[0, 320]]);
    const budget = setWindowMatrixBudget(5000); // 138 positions
    try {
      expect(windowChunks(g, 36)).toEqual([
        [0, 138],
        [138, 138],
        [276, 44],
      ]);
      setWindowMatrixBudget(1);
      const chunks = windowChunks(g, 36);
      expect(chunks).toHaveLength(320);
      expect(chunks.every(([first, count], k) => first === k && count === 1)).toBe(true);
    } finally {
      setWindowMatrixBudget(budget);
    }
  });
});

describe('matrix transposes', () => {
  it('recognises permutations that swap two blocks of axes between fixed ones', () => {
    expect(asBatchedMatrices([2, 3, 4], [0, 2, 1])).toEqual({ batch: 2, rows: 3, cols: 4, inner: 1 });
    expect(asBatchedMatrices([2, 3, 4, 5], [1, 2, 0, 3])).toEqual({ batch: 1, rows: 2, cols: 12, inner: 5 });
    expect(asBatchedMatrices([2, 3, 4, 5], [2, 3, 0, 1])).toEqual({ batch: 1, rows: 6, cols: 20, inner: 1 });
    expect(asBatchedMatrices([2, 3, 4, 5], [3, 1, 2, 0])).toBeNull();
    expect(asBatchedMatrices([2, 3, 4, 5], [1, 0, 3, 2])).toBeNull();
    expect(asBatchedMatrices([2, 3], [0, 1])).toBeNull();
  });

  it('moves values like a transpose, with blocks of inner values kept together', () => {
    const source = Float32Array.from({ length: 12 }, (_, k) => k); // [2, 3, 2]: rows 2, cols 3, inner 2
    const target = new Float32Array(12);
    transposeMatrices(source, { batch: 1, rows: 2, cols: 3, inner: 2 }, target);
    expect([...target]).toEqual([0, 1, 6, 7, 2, 3, 8, 9, 4, 5, 10, 11]);
  });
});
