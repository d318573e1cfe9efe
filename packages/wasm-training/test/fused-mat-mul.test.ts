import * as tf from '@tensorflow/tfjs-core';
import { afterAll, describe, expect, it } from 'vitest';
import { fusedMatMulConfig } from '../src/fused-mat-mul.js';
import {
  expectNoGrowth,
  maxAbsDifference,
  onBothBackends,
  productOperands,
  randomValues,
  recordWasmKernelCalls,
  useBackend,
} from './backends.js';

type Activation = 'linear' | 'relu' | 'relu6' | 'elu' | 'sigmoid' | 'leakyrelu' | 'prelu';

interface FusedCase {
  a: number[];
  b: number[];
  transposeA: boolean;
  transposeB: boolean;
  activation: Activation;
  bias: boolean;
}

// Every transpose combination with a tall weight and a small one, a folded batch of A, and each activation
// once; few rows (our product of few rows: inner sizes past a 256-row block and below 4, a folded batch, column
// counts not a multiple of 4); values scaled so that relu6 clips some of them.
const CASES: FusedCase[] = [
  ...productOperands(3, 300, 40).map((o) => ({ ...o, activation: 'relu' as const, bias: true })),
  ...productOperands(9, 5, 4).map((o) => ({ ...o, activation: 'linear' as const, bias: false })),
  ...(['relu6', 'elu', 'sigmoid', 'leakyrelu', 'prelu'] as const).map((activation) => ({
    a: [4, 200],
    b: [200, 30],
    transposeA: false,
    transposeB: false,
    activation,
    bias: true,
  })),
  { a: [3, 6, 40], b: [40, 7], transposeA: false, transposeB: false, activation: 'relu', bias: true },
  { a: [2, 3], b: [3, 18], transposeA: false, transposeB: false, activation: 'linear', bias: true },
  { a: [2, 3, 40], b: [40, 17], transposeA: false, transposeB: false, activation: 'relu', bias: true },
];

afterAll(async () => {
  await useBackend('cpu');
});

function fusedProduct(c: FusedCase): tf.Tensor {
  const size = (shape: number[]) => shape.reduce((p, d) => p * d, 1);
  const n = c.transposeB ? c.b[c.b.length - 2] : c.b[c.b.length - 1];
  return tf.fused.matMul({
    a: tf.mul(tf.tensor(randomValues(size(c.a), 51), c.a), 3),
    b: tf.tensor(randomValues(size(c.b), 52), c.b),
    transposeA: c.transposeA,
    transposeB: c.transposeB,
    bias: c.bias ? tf.tensor1d(randomValues(n, 53)) : undefined,
    activation: c.activation,
    preluActivationWeights: c.activation === 'prelu' ? tf.tensor1d(randomValues(n, 54)) : undefined,
    leakyreluAlpha: 0.1,
  });
}

describe.each(CASES)(
  '_FusedMatMul a $a b $b transposeA $transposeA transposeB $transposeB $activation',
  (c) => {
    it('equals cpu within 1e-4, with the same shape', async () => {
      const shapes: Record<string, number[]> = {};
      const { cpu, wasm } = await onBothBackends(() => {
        const product = fusedProduct(c);
        shapes[tf.getBackend()] = product.shape;
        return product;
      });
      expect(shapes.wasm).toEqual(shapes.cpu);
      expect(maxAbsDifference(wasm[0], cpu[0])).toBeLessThan(1e-4);
    });
  },
);

describe('_FusedMatMul on wasm', () => {
  /** Runs `compute` with wasm's own BatchMatMul and _FusedMatMul kernels recording how they are called. */
  function recordWasmCalls(compute: () => void): string[] {
    const describe = (name: string, inputs: Record<string, tf.TensorInfo>) =>
      `${name} ${inputs.a.shape} ${inputs.b.shape}`;
    return recordWasmKernelCalls(['BatchMatMul', '_FusedMatMul'], describe, () => tf.tidy(compute)).calls;
  }

  it('multiplies a fresh weight by up to 64 rows in our product of few rows, by more in our packed product; a weight seen before by 9+ rows in our packed product (its packing kept), by fewer as stored; never in wasm', async () => {
    await useBackend('wasm');
    expect(tf.getKernel('_FusedMatMul', 'wasm')!.kernelFunc).toBe(fusedMatMulConfig.kernelFunc);
    const fewRows = tf.tensor(randomValues(4 * 600, 1), [4, 600]);
    const someRows = tf.tensor(randomValues(20 * 600, 2), [20, 600]);
    const manyRows = tf.tensor(randomValues(80 * 600, 6), [80, 600]);
    const [first, second, third] = [3, 4, 7].map((seed) =>
      tf.tensor(randomValues(600 * 200, seed), [600, 200]),
    );
    const bias = tf.tensor1d(randomValues(200, 5));
    const layer = (x: tf.Tensor, weight: tf.Tensor) =>
      tf.fused.matMul({ a: x, b: weight, bias, activation: 'relu' });
    let fresh: tf.Tensor | undefined;
    let kept: tf.Tensor | undefined;
    const calls = recordWasmCalls(() => {
      layer(fewRows, first);
      fresh = tf.keep(layer(someRows, second)); // a fresh weight, 20 rows: our product of few rows
      kept = tf.keep(layer(someRows, second)); // seen before: our packed product, its packing kept
      layer(fewRows, second); // 4 rows: our product of few rows again, B as stored
      layer(manyRows, third); // 64+ rows: our packed product, with a fresh weight
      layer(manyRows, second); // and with one seen before
    });
    expect(calls).toEqual([]);
    expect(
      maxAbsDifference((await kept!.data()) as Float32Array, (await fresh!.data()) as Float32Array),
    ).toBeLessThan(1e-4);
    tf.dispose([fresh!, kept!, fewRows, someRows, manyRows, first, second, third, bias]);
  });

  it('frees every intermediate tensor', async () => {
    await useBackend('wasm');
    const x = tf.tensor(randomValues(4 * 300, 1), [4, 300]);
    const bias = tf.tensor1d(randomValues(20, 3));
    const run = () =>
      tf.tidy(() => {
        const fresh = tf.tensor(randomValues(300 * 20, 2), [300, 20]);
        tf.fused.matMul({ a: x, b: fresh, bias, activation: 'relu6' }).dataSync();
        tf.fused.matMul({ a: fresh, b: x, transposeA: true, transposeB: true, activation: 'elu' }).dataSync();
      });
    expectNoGrowth(run);
    tf.dispose([x, bias]);
  });
});
