import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { weightedSoftplusMean } from '../src/weighted-softplus.js';
import { BACKENDS, useBackend } from './backends.js';

const LOGITS = [1, -2, 0.5, 3, -0.25, 4];
const SIGNS = [1, -1, -1, 1, 1, -1];
const WEIGHTS = [0.25, 0.75];

/** The definition in float64: rows of 3 values. */
function value64(logits: number[]): number {
  const softplus = (z: number) => Math.log1p(Math.exp(z));
  return WEIGHTS.reduce((sum, w, k) => {
    const row = [0, 1, 2].map((i) => softplus(-SIGNS[3 * k + i] * logits[3 * k + i]));
    return sum + (w * row.reduce((a, b) => a + b, 0)) / 3;
  }, 0);
}

describe.each(BACKENDS)('weightedSoftplusMean on %s', (backend) => {
  it('equals its definition, with gradients equal to central finite differences', async () => {
    await useBackend(backend);
    const logits = tf.tensor2d(LOGITS, [2, 3]);
    const signs = tf.tensor2d(SIGNS, [2, 3]);
    const weights = tf.tensor1d(WEIGHTS);
    // The gradient of 2 x the term: dy reaches it.
    const run = () => ({
      value: weightedSoftplusMean(logits, signs, weights),
      gradient: tf.grad((f: tf.Tensor) => tf.mul(weightedSoftplusMean(f, signs, weights), 2))(logits),
    });
    tf.dispose(Object.values(run()));
    const before = tf.memory().numTensors;
    const { value, gradient } = run();
    expect(value.dataSync()[0]).toBeCloseTo(value64(LOGITS), 6);
    const h = 1e-6;
    const numeric = LOGITS.map((_, i) => {
      const [plus, minus] = [1, -1].map((d) => LOGITS.map((f, j) => (j === i ? f + d * h : f)));
      return (2 * (value64(plus) - value64(minus))) / (2 * h);
    });
    expect(Array.from(gradient.dataSync())).toEqual(numeric.map((g) => expect.closeTo(g, 6)));
    tf.dispose([value, gradient]);
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([logits, signs, weights]);
  });
});
