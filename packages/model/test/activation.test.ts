import * as tf from '@tensorflow/tfjs-core';
import { expect, it } from 'vitest';
import { activate } from '../src/layers.js';
import { gradientThroughActivation, RELU_GRADIENT_KERNEL, relu, reluGradient } from '../src/relu.js';
import { describeEachBackend } from './backends.js';

describeEachBackend('ReLU6 of the layers', (backend) => {
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

  it(`runs ${RELU_GRADIENT_KERNEL} with cap 6 where the backend registers it (wasm), else Step, Sub and Multiply`, async () => {
    const { x, dy } = inputs();
    const registered = tf.getKernel(RELU_GRADIENT_KERNEL, backend) !== undefined;
    const profile = await tf.profile(() =>
      tf.dispose(tf.grad((v: tf.Tensor) => activate(v, 'relu6'))(x, dy)),
    );
    expect(profile.kernelNames.includes(RELU_GRADIENT_KERNEL)).toBe(registered);
    expect(profile.kernelNames.includes('Step')).toBe(!registered);
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

describeEachBackend('ReLU of the layers', (backend) => {
  const inputs = () => ({
    x: tf.tensor1d([-2, -0.5, 0, -0, 0.25, 3, Number.NaN, 9]),
    dy: tf.tensor1d([1, 2, 3, 4, 5, 6, 7, 8]),
  });

  it("has relu's values and, under a tape, tfjs' own gradient (dy where x > 0, else 0)", () => {
    const { x, dy } = inputs();
    const [value, gradient] = tf.tidy(() => {
      const { value, grads } = tf.valueAndGrads((v: tf.Tensor) => tf.mul(activate(v, 'relu'), dy))([x]);
      return [value.dataSync(), grads[0].dataSync()];
    });
    expect(Array.from(value)).toEqual(Array.from(tf.tidy(() => tf.mul(tf.relu(x), dy).dataSync())));
    const tfjsOwn = tf.tidy(() =>
      tf
        .grad((v: tf.Tensor) => tf.relu(v))(x, dy)
        .dataSync(),
    );
    expect(Array.from(gradient).slice(0, 6)).toEqual([0, 0, 0, 0, 5, 6]);
    expect(Array.from(gradient)).toEqual(Array.from(tfjsOwn));
    tf.dispose([x, dy]);
  });

  it(`runs ${RELU_GRADIENT_KERNEL} where the backend registers it (wasm), else Step and Multiply`, async () => {
    const { x, dy } = inputs();
    const registered = tf.getKernel(RELU_GRADIENT_KERNEL, backend) !== undefined;
    expect(registered).toBe(backend === 'wasm');
    const profile = await tf.profile(() => tf.dispose(tf.grad((v: tf.Tensor) => relu(v))(x, dy)));
    expect(profile.kernelNames.includes(RELU_GRADIENT_KERNEL)).toBe(registered);
    expect(profile.kernelNames.includes('Step')).toBe(!registered);
    const direct = tf.tidy(() => Array.from(reluGradient(dy, x).dataSync()));
    expect(direct).toEqual(Array.from(tf.tidy(() => tf.mul(dy, tf.step(x)).dataSync())));
    tf.dispose([x, dy]);
  });

  it('frees its intermediates under a tape', () => {
    const { x, dy } = inputs();
    const step = () => tf.dispose(tf.grads((v: tf.Tensor) => tf.sum(activate(v, 'relu')))([x]));
    step();
    const before = tf.memory().numTensors;
    for (let i = 0; i < 3; i++) step();
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([x, dy]);
  });
});

describeEachBackend("a fused kernel's gradient through its activation, from its output", () => {
  // Outputs of ReLU6: 0, the smallest positive float32, 3, the largest float32 below 6, and 6 (an input of 6
  // or more), and a NaN.
  const y = () => tf.tensor1d([0, 2 ** -149, 3, Math.fround(6 - 2 ** -21), 6, Number.NaN]);
  const dy = () => tf.tensor1d([1, 2, 3, 4, 5, 6]);
  const through = (activation: string) =>
    tf.tidy(() => Array.from(gradientThroughActivation(dy(), y(), activation, 'Test').dataSync()));

  it('passes dy where 0 < y < 6 through ReLU6 (0 at an output of 6, as PyTorch at an input of exactly 6)', () => {
    expect(through('relu6')).toEqual([0, 2, 3, 4, 0, Number.NaN]);
  });

  it('passes dy where y > 0 through ReLU, all of it through linear, and refuses other activations', () => {
    expect(through('relu')).toEqual([0, 2, 3, 4, 5, Number.NaN]);
    expect(through('linear')).toEqual([1, 2, 3, 4, 5, 6]);
    expect(() => through('elu')).toThrow(
      /Test gradient \(@deepmask\/model\): activation 'elu' is not supported/,
    );
  });
});
