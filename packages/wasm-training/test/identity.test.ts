import * as tf from '@tensorflow/tfjs-core';
import { afterAll, describe, expect, it } from 'vitest';
import { useBackend } from './backends.js';

afterAll(async () => {
  await useBackend('cpu');
});

describe('Identity on wasm', () => {
  it('shares the memory of its input, which outlives the input', async () => {
    await useBackend('wasm');
    const backend = tf.engine().backend;
    const source = tf.tensor2d([1, -2, 3.5, 4], [2, 2]);
    const before = backend.numDataIds();
    const clone = tf.clone(source);
    expect(backend.numDataIds()).toBe(before);
    source.dispose();
    expect(Array.from(await clone.data())).toEqual([1, -2, 3.5, 4]);
    expect(clone.shape).toEqual([2, 2]);
    clone.dispose();
    expect(backend.numDataIds()).toBe(before - 1);
  });

  it('leaves the gradients of a recorded op unchanged (the tape keeps clones of its tensors)', async () => {
    await useBackend('wasm');
    const x = tf.tensor1d([-1, 0.5, 2]);
    const grad = tf.grad((v: tf.Tensor) => tf.sum(tf.mul(tf.relu(v), v)))(x);
    // d/dv relu(v) v = 2 v for v > 0, 0 for v < 0
    expect(Array.from(await grad.data())).toEqual([0, 1, 4]);
    tf.dispose([x, grad]);
  });
});
