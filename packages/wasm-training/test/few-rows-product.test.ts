import { describe, expect, it } from 'vitest';
import { productModuleVariant, randomValues } from './backends.js';

// Rows in one group of 4 and past it (a last group of 1-3 live rows); B's rows in pairs half of k apart,
// past a block of 128 pairs (the second block adds to C), with an odd last row or without; columns in runs
// of 8, then a run of 4, then single ones (13 = 8 + 4 + 1, 7 = 4 + 3, 30 = 3 x 8 + 4 + 2), past a block of
// 512 columns (530 = 512 + 2 x 8 + 2, 524 = 512 + 8 + 4); one step and one pair.
const CASES = [
  [1, 1, 8],
  [4, 9, 13],
  [3, 300, 7],
  [8, 513, 30],
  [5, 17, 3],
  [7, 256, 16],
  [2, 2, 530],
  [9, 301, 524],
].map(([m, k, n]) => ({ m, k, n }));

/** A B in float64, summed in order. */
function reference(a: Float32Array, b: Float32Array, { m, k, n }: (typeof CASES)[number]): Float64Array {
  const out = new Float64Array(m * n);
  for (let i = 0; i < m; i++)
    for (let j = 0; j < n; j++) {
      let sum = 0;
      for (let t = 0; t < k; t++) sum += a[i * k + t] * b[t * n + j];
      out[i * n + j] = sum;
    }
  return out;
}

describe.each(['fused', 'separate'] as const)('the product of few rows (%s multiply-adds)', (variant) => {
  const { supported, memory, instantiate } = productModuleVariant(variant, 20);

  it.runIf(supported).each(CASES)(
    'equals the float64 product, writing nothing else: m $m, k $k, n $n',
    (c) => {
      const { fewRowsProduct } = instantiate();
      const floats = new Float32Array(memory.buffer);
      const a = randomValues(c.m * c.k, c.m + c.k);
      const b = randomValues(c.k * c.n, c.n + 11);
      // Odd float offsets, as tensors in wasm's heap may have; C with a NaN margin on both sides.
      const aAt = 5;
      const bAt = aAt + a.length + 3;
      const cAt = bAt + b.length + 7;
      floats.set(a, aAt);
      floats.set(b, bAt);
      floats.fill(Number.NaN, cAt - 4, cAt + c.m * c.n + 4);
      fewRowsProduct(4 * aAt, c.k, 4 * bAt, 4 * cAt, c.m, c.k, c.n);
      const expected = reference(a, b, c);
      const product = floats.slice(cAt, cAt + c.m * c.n);
      let largest = 0;
      for (let i = 0; i < expected.length; i++) {
        largest = Math.max(largest, Math.abs(product[i] - expected[i]) / Math.sqrt(c.k));
      }
      // Per step of k, float32 rounding of values of size ~1: well under 1e-5 relative.
      expect(largest).toBeLessThan(1e-5);
      for (const at of [cAt - 4, cAt - 1, cAt + c.m * c.n, cAt + c.m * c.n + 3]) expect(floats[at]).toBeNaN();
    },
  );

  it.runIf(supported)('adds copies in order, four floats at a time and the last size % 4 one by one', () => {
    const { sumCopies } = instantiate();
    const floats = new Float32Array(memory.buffer);
    // 3 copies of 7 floats from an odd offset; the sum written next to them, a NaN after it untouched.
    const [copiesAt, size, count] = [3, 7, 3];
    const copies = randomValues(count * size, 21);
    const outAt = copiesAt + copies.length;
    floats.set(copies, copiesAt);
    floats.fill(Number.NaN, outAt, outAt + size + 1);
    sumCopies(4 * copiesAt, count, size, 4 * outAt);
    for (let i = 0; i < size; i++) {
      const inOrder = Math.fround(Math.fround(copies[i] + copies[size + i]) + copies[2 * size + i]);
      expect(floats[outAt + i]).toBe(inOrder);
    }
    expect(floats[outAt + size]).toBeNaN();
  });
});
