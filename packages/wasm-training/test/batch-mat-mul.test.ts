import * as tf from '@tensorflow/tfjs-core';
import { afterAll, describe, expect, it } from 'vitest';
import { batchMatMulConfig } from '../src/batch-mat-mul.js';
import { planProduct } from '../src/matrix-product.js';
import {
  expectNoGrowth,
  maxAbsDifference,
  onBothBackends,
  productOperands,
  randomValues,
  recordWasmKernelCalls,
  useBackend,
} from './backends.js';

interface MatMulCase {
  a: number[];
  b: number[];
  transposeA: boolean;
  transposeB: boolean;
}

// Every transpose combination, shapes where either side is the cheaper one to move, folded and broadcast
// batches of A, and batched B (handed to wasm unchanged). Products of 32 rows or more take our packed
// product: there rows that end in part of a 4-row tile, columns in part of an 8-column panel, two blocks
// of steps (512 each) and of rows (64 each).
const CASES: MatMulCase[] = [
  ...productOperands(5, 7, 3),
  ...productOperands(3, 40, 90),
  ...productOperands(90, 40, 2),
  ...productOperands(70, 600, 13),
  ...productOperands(33, 9, 16),
  // A dense layer's gradients at small batches: x^T dy of 8 samples by our outer products, dy W^T of 32 by
  // our row dot products (B's rows past a block of 64), A's batch folded; 9 samples past them.
  { a: [8, 1100], b: [8, 300], transposeA: true, transposeB: false },
  { a: [9, 70], b: [9, 30], transposeA: true, transposeB: false },
  { a: [32, 301], b: [260, 301], transposeA: false, transposeB: true },
  { a: [2, 16, 5], b: [40, 5], transposeA: false, transposeB: true },
  { a: [3, 12, 40], b: [40, 9], transposeA: false, transposeB: false },
  ...productOperands(6, 4, 5).flatMap((o) => [
    { ...o, a: [1, ...o.a], b: [1, ...o.b] },
    { ...o, a: [3, ...o.a] },
    { ...o, a: [2, 3, ...o.a], b: [1, ...o.b] },
    { ...o, a: [3, ...o.a], b: [3, ...o.b] },
  ]),
];

afterAll(async () => {
  await useBackend('cpu');
});

describe.each(CASES)('BatchMatMul a $a b $b transposeA $transposeA transposeB $transposeB', (c) => {
  it('equals cpu within 1e-4, with the same shape', async () => {
    const aValues = randomValues(
      c.a.reduce((p, d) => p * d, 1),
      41,
    );
    const bValues = randomValues(
      c.b.reduce((p, d) => p * d, 1),
      42,
    );
    let wasmShape: number[] = [];
    let cpuShape: number[] = [];
    const { cpu, wasm } = await onBothBackends(() => {
      const product = tf.matMul(tf.tensor(aValues, c.a), tf.tensor(bValues, c.b), c.transposeA, c.transposeB);
      if (tf.getBackend() === 'wasm') wasmShape = product.shape;
      else cpuShape = product.shape;
      return product;
    });
    expect(wasmShape).toEqual(cpuShape);
    expect(maxAbsDifference(wasm[0], cpu[0])).toBeLessThan(1e-4);
  });
});

describe('BatchMatMul on wasm', () => {
  it("calls wasm's own kernel only for a weight that it keeps packed by fewer than 9 rows, which ours do not take", async () => {
    await useBackend('wasm');
    const registered = tf.getKernel('BatchMatMul', 'wasm')!;
    expect(registered.kernelFunc).toBe(batchMatMulConfig.kernelFunc);
    const describe = (_: string, { a, b }: Record<string, tf.TensorInfo>, attrs: tf.NamedAttrMap) =>
      `${a.shape} ${b.shape} ${attrs.transposeA} ${attrs.transposeB}`;
    const { calls } = recordWasmKernelCalls(['BatchMatMul'], describe, () =>
      tf.tidy(() => {
        // A fresh B: our packed product at any rows, transposed operands read in place.
        tf.matMul(tf.ones([8, 20]), tf.ones([8, 30]), true, false);
        tf.matMul(tf.ones([8, 30]), tf.ones([100, 30]), false, true);
        tf.matMul(tf.ones([4, 4, 30]), tf.ones([30, 5]));
        tf.matMul(tf.ones([8, 100]), tf.ones([8, 30]), true, false);
        tf.matMul(tf.ones([2, 3, 30]), tf.ones([30, 20])); // 6 rows of 20 values: our product of few rows
        const weight = tf.ones([30, 5]);
        tf.matMul(tf.ones([12, 30]), weight); // a weight seen before from here on
        tf.matMul(tf.ones([4, 30]), weight); // 4 rows of 5 values: wasm's, its packing kept
        tf.matMul(tf.ones([12, 30]), weight); // 9+ rows: ours, its packing kept
      }),
    );
    expect(calls).toEqual(['1,4,30 1,30,5 false false']);
  });

  it("takes a dense layer's gradients at small batches to our outer products and row dot products", async () => {
    await useBackend('wasm');
    const backend = tf.engine().backend;
    const strategy = (a: number[], b: number[], transposeA: boolean, transposeB: boolean) =>
      tf.tidy(() => planProduct(tf.zeros(a), tf.zeros(b), transposeA, transposeB, backend)?.strategy);
    // x^T dy (x [samples, in], dy [samples, out]) and dy W^T (W [in, out]) of a [3136 -> 512] layer.
    expect(strategy([4, 3136], [4, 512], true, false)).toBe('outer');
    expect(strategy([8, 3136], [8, 512], true, false)).toBe('outer');
    expect(strategy([9, 3136], [9, 512], true, false)).not.toBe('outer');
    expect(strategy([0, 3136], [0, 512], true, false)).not.toBe('outer');
    expect(strategy([4, 512], [3136, 512], false, true)).toBe('dots');
    expect(strategy([32, 512], [3136, 512], false, true)).toBe('dots');
    expect(strategy([33, 512], [3136, 512], false, true)).not.toBe('dots');
  });

  it("keeps a weight's packing for our packed product while the weight lives, and frees it with it", async () => {
    const [aValues, weightValues] = [randomValues(40 * 30, 1), randomValues(30 * 20, 2)];
    const { cpu } = await onBothBackends(() =>
      tf.matMul(tf.tensor(aValues, [40, 30]), tf.tensor(weightValues, [30, 20])),
    );
    await useBackend('wasm');
    const backend = tf.engine().backend;
    const a = tf.tensor(aValues, [40, 30]);
    const weight = tf.tensor(weightValues, [30, 20]);
    const before = backend.numDataIds();
    // Packed at every call until seen before, then once and kept: three products and one packing.
    const products = [1, 2, 3].map(() => tf.matMul(a, weight));
    expect(backend.numDataIds()).toBe(before + 3 + 1);
    for (const product of products) {
      expect(maxAbsDifference(product.dataSync() as Float32Array, cpu[0])).toBeLessThan(1e-4);
    }
    tf.dispose(products);
    weight.dispose();
    expect(backend.numDataIds()).toBe(before - 1);
    a.dispose();
  });

  it("refuses operands whose inner shapes differ with tfjs' error, as the cpu backend does", async () => {
    for (const backend of ['cpu', 'wasm']) {
      await useBackend(backend);
      const [x, w] = [tf.ones([4, 40]), tf.ones([40, 3])];
      for (const [transposeA, transposeB] of [
        [false, true],
        [true, false],
      ]) {
        expect(
          () => tf.matMul(x, w, transposeA, transposeB),
          `${backend} ${transposeA} ${transposeB}`,
        ).toThrow(
          `Error in matMul: inner shapes (${transposeA ? 4 : 40}) and (${transposeB ? 3 : 40}) of Tensors with shapes 4,40 and 40,3 and transposeA=${transposeA} and transposeB=${transposeB} must match.`,
        );
      }
      tf.dispose([x, w]);
    }
  });

  it('frees every intermediate tensor', async () => {
    await useBackend('wasm');
    const a = tf.tensor(randomValues(40 * 3, 1), [40, 3]);
    const b = tf.tensor(randomValues(40 * 90, 2), [40, 90]);
    const x = tf.tensor(randomValues(4 * 40, 3), [4, 40]);
    // Packed products both ways, then outer products and row dot products.
    const products = () => [
      tf.matMul(a, b, true, false),
      tf.matMul(b, a, true, false),
      tf.matMul(x, x, true, false),
      tf.matMul(x, b, false, false),
      tf.matMul(x, x, false, true),
    ];
    expectNoGrowth(() => tf.dispose(products()));
    tf.dispose([a, b, x]);
  });
});
