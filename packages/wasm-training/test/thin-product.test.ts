import { describe, expect, it } from 'vitest';
import { productModuleVariant, randomValues } from './backends.js';

/** Float offsets of A, B and C in memory: odd, as tensors in wasm's heap may have; C with NaN margins. */
function place(floats: Float32Array, a: Float32Array, b: Float32Array, cSize: number) {
  const aAt = 5;
  const bAt = aAt + a.length + 3;
  const cAt = bAt + b.length + 7;
  floats.set(a, aAt);
  floats.set(b, bAt);
  floats.fill(Number.NaN, cAt - 4, cAt + cSize + 4);
  return { aAt, bAt, cAt };
}

/** The largest difference from the float64 values over sqrt(terms): float32 rounding of values of size ~1. */
function largestError(actual: Float32Array, expected: Float64Array, terms: number): number {
  let largest = 0;
  for (let i = 0; i < expected.length; i++) {
    largest = Math.max(largest, Math.abs(actual[i] - expected[i]) / Math.sqrt(terms));
  }
  return largest;
}

// Inner rows in groups of 4, then a last group of 3, 2 or 1 (1, 2, 3, 5, 6, 7 = 4 + 3, 9); columns in
// 8-wide strips, then a 4-wide one, then single ones (13 = 8 + 4 + 1, 7 = 4 + 3, 30 = 3 x 8 + 4 + 2).
const OUTER_CASES = [
  [1, 5, 8],
  [2, 3, 13],
  [3, 4, 7],
  [4, 9, 30],
  [5, 2, 1],
  [7, 6, 12],
  [9, 4, 16],
].map(([inner, m, n]) => ({ inner, m, n }));

// A's rows in one group of 4 and past it (a last group of 1-3 live rows); B's rows in pairs and a last
// single one, past a block of 64; k in vectors of 4 and single values (1, 3, 9, 16).
const DOT_CASES = [
  [1, 1, 1],
  [4, 9, 3],
  [3, 16, 7],
  [5, 3, 130],
  [8, 1, 66],
  [6, 17, 5],
].map(([m, k, n]) => ({ m, k, n }));

describe.each(['fused', 'separate'] as const)(
  "a dense layer's gradients at small batches (%s multiply-adds)",
  (variant) => {
    const { supported, memory, instantiate } = productModuleVariant(variant, 20);

    it.runIf(supported).each(OUTER_CASES)(
      'outer products: rows of A^T B equal float64 sums, nothing else written: inner $inner, m $m, n $n',
      ({ inner, m, n }) => {
        const { outerProductRows } = instantiate();
        const floats = new Float32Array(memory.buffer);
        const a = randomValues(inner * m, inner + m);
        const b = randomValues(inner * n, n + 5);
        const { aAt, bAt, cAt } = place(floats, a, b, m * n);
        // Rows 1..m of C (row 0 left as it was), as a thread's share.
        outerProductRows(4 * aAt, 4 * m, 4 * bAt, 4 * cAt, inner, n, 1, m);
        const expected = new Float64Array(m * n);
        for (let i = 0; i < m; i++)
          for (let j = 0; j < n; j++) {
            for (let r = 0; r < inner; r++) expected[i * n + j] += a[r * m + i] * b[r * n + j];
          }
        const product = floats.slice(cAt + n, cAt + m * n);
        expect(largestError(product, expected.subarray(n), inner)).toBeLessThan(1e-6);
        for (let j = 0; j < n; j++) expect(floats[cAt + j]).toBeNaN();
        for (const at of [cAt - 1, cAt + m * n, cAt + m * n + 3]) expect(floats[at]).toBeNaN();
      },
    );

    it.runIf(supported)('outer products: each value sums its inner rows in order, as float32 would', () => {
      const { outerProductRows } = instantiate();
      const floats = new Float32Array(memory.buffer);
      // Terms whose sum depends on their order: 1e8, 1, -1e8, 1 sums to 1 in order (the 1 after 1e8 is lost).
      const a = Float32Array.from([1, 1, 1, 1]);
      const b = Float32Array.from([1e8, 1, -1e8, 1]);
      const { aAt, bAt, cAt } = place(floats, a, b, 1);
      outerProductRows(4 * aAt, 4, 4 * bAt, 4 * cAt, 4, 1, 0, 1);
      expect(floats[cAt]).toBe(Math.fround(Math.fround(Math.fround(1e8 + 1) - 1e8) + 1));
    });

    it.runIf(supported).each(DOT_CASES)(
      'row dot products: columns of A B^T equal float64 sums, nothing else written: m $m, k $k, n $n',
      ({ m, k, n }) => {
        const { rowDotProducts } = instantiate();
        const floats = new Float32Array(memory.buffer);
        const a = randomValues(m * k, m + k);
        const b = randomValues(n * k, n + 7);
        const { aAt, bAt, cAt } = place(floats, a, b, m * n);
        // Columns 1..n of C (column 0 left as it was), as a thread's share.
        rowDotProducts(4 * aAt, 4 * bAt, 4 * cAt, m, k, n, 1, n);
        for (let r = 0; r < m; r++) {
          expect(floats[cAt + r * n]).toBeNaN();
          const expected = new Float64Array(n - 1);
          for (let j = 1; j < n; j++) {
            for (let t = 0; t < k; t++) expected[j - 1] += a[r * k + t] * b[j * k + t];
          }
          const row = floats.slice(cAt + r * n + 1, cAt + (r + 1) * n);
          expect(largestError(row, expected, k)).toBeLessThan(1e-6);
        }
        for (const at of [cAt - 1, cAt + m * n, cAt + m * n + 3]) expect(floats[at]).toBeNaN();
      },
    );
  },
);
