import * as tf from '@tensorflow/tfjs-core';
import { expect, it } from 'vitest';
import { activate } from '../src/layers.js';
import { describeEachBackend } from './backends.js';

describeEachBackend('ReLU6 of the layers', () => {
  // Both sides of each kink, and the kinks themselves (0 and 6 as tfjs' own gradient treats them).
  const inputs = () => ({
    x: tf.tensor1d([-2, -0.5, 0, 0.25, 3, 5.75, 6, 6.5, 9]),
    dy: tf.tensor1d([1, 2, 3, 4, 5, 6, 7, 8, 9]),
  });

  it('has the values of relu6 and, under a tape, the gradient dy where 0 < x <= 6, else 0', () => {
    const { x, dy } = inputs();
    const [value, gradient] = tf.tidy(() => {
      const { value, grads } = tf.valueAndGrads((v: tf.Tensor) => tf.mul(activate(v, 'relu6'), dy))([x]);
      return [value.arraySync(), grads[0].arraySync()];
    });
    expect(value).toEqual([0, 0, 0, 0.25, 3, 5.75, 6, 6, 6].map((v, k) => v * (k + 1)));
    expect(gradient).toEqual([0, 0, 0, 4, 5, 6, 7, 0, 0]);
    const tfjsOwn = tf.tidy(() =>
      tf
        .grad((v: tf.Tensor) => tf.relu6(v))(x, dy)
        .arraySync(),
    );
    expect(gradient).toEqual(tfjsOwn);
    tf.dispose([x, dy]);
  });

  it('is tfjs relu6 outside a tape, and frees its intermediates', () => {
    const { x, dy } = inputs();
    expect(tf.tidy(() => activate(x, 'relu6').arraySync())).toEqual([0, 0, 0, 0.25, 3, 5.75, 6, 6, 6]);
    const step = () => tf.dispose(tf.grads((v: tf.Tensor) => tf.sum(activate(v, 'relu6')))([x]));
    step();
    const before = tf.memory().numTensors;
    for (let i = 0; i < 3; i++) step();
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([x, dy]);
  });
});
