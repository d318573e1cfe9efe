import * as tf from '@tensorflow/tfjs-core';
import { expect, it } from 'vitest';
import type { TrainableActivation } from '../src/fused-conv-training.js';
import { trainableFusedMatMul } from '../src/fused-matmul-training.js';
import { describeEachBackend, maxAbsDiff } from './backends.js';

// Rows below and above 32: on wasm, wasm's own kernel and our packed product.
const CASES: Array<{ rows: number; inSize: number; outSize: number; activation: TrainableActivation }> = [
  { rows: 4, inSize: 12, outSize: 5, activation: 'relu' },
  { rows: 40, inSize: 20, outSize: 9, activation: 'linear' },
  { rows: 33, inSize: 7, outSize: 16, activation: 'relu' },
];

const values = (shape: number[], seed: number) => tf.randomNormal(shape, 0, 1, 'float32', seed);

describeEachBackend('trainableFusedMatMul', () => {
  for (const c of CASES) {
    it(`${c.rows} x ${c.inSize} -> ${c.outSize}, ${c.activation}: the values and gradients of matMul + add (+ ReLU)`, () => {
      const x = values([c.rows, c.inSize], 1) as tf.Tensor2D;
      const w = values([c.inSize, c.outSize], 2) as tf.Tensor2D;
      const b = values([c.outSize], 3) as tf.Tensor1D;
      const weights = values([c.rows, c.outSize], 4);
      const plain = (xs: tf.Tensor, ws: tf.Tensor, bs: tf.Tensor) => {
        const y = tf.add(tf.matMul(xs as tf.Tensor2D, ws as tf.Tensor2D), bs);
        return c.activation === 'relu' ? tf.relu(y) : y;
      };
      const fused = (xs: tf.Tensor, ws: tf.Tensor, bs: tf.Tensor) =>
        trainableFusedMatMul(xs as tf.Tensor2D, ws as tf.Tensor2D, bs as tf.Tensor1D, c.activation);
      const gradients = (f: typeof plain) =>
        tf.valueAndGrads((xs: tf.Tensor, ws: tf.Tensor, bs: tf.Tensor) =>
          tf.sum(tf.mul(f(xs, ws, bs), weights)),
        )([x, w, b]);
      const expected = gradients(plain);
      const got = gradients(fused);
      expect(maxAbsDiff(got.value, expected.value)).toBeLessThan(
        1e-4 * Math.max(Math.abs(expected.value.dataSync()[0]), 1),
      );
      for (const [k, name] of ['x', 'weights', 'bias'].entries()) {
        const scale = tf.tidy(() => tf.max(tf.abs(expected.grads[k])).dataSync()[0]);
        expect(maxAbsDiff(got.grads[k], expected.grads[k]), name).toBeLessThan(1e-4 * Math.max(scale, 1));
      }
      tf.dispose([x, w, b, weights, expected.value, got.value, ...expected.grads, ...got.grads]);
    });
  }

  it('leaves no tensor behind over repeated training steps', () => {
    const x = values([6, 8], 1) as tf.Tensor2D;
    const w = tf.variable(values([8, 3], 2), true, 'fused-matmul-leak/w');
    const b = tf.variable(values([3], 3), true, 'fused-matmul-leak/b');
    const step = () => {
      const { value, grads } = tf.variableGrads(() =>
        tf.sum(trainableFusedMatMul(x, w as tf.Tensor2D, b as tf.Tensor1D, 'relu')),
      );
      tf.dispose([value, ...Object.values(grads)]);
    };
    step();
    const before = tf.memory().numTensors;
    for (let i = 0; i < 3; i++) step();
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([x, w, b]);
  });
});
