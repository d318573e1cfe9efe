import * as tf from '@tensorflow/tfjs-core';
import { afterAll, describe, expect, it } from 'vitest';
import { expectNoGrowth, maxAbsDifference, onBothBackends, randomValues, useBackend } from './backends.js';

// A miniature of every layer kind the trunks and heads train through, in one differentiable function.
const SHAPES = {
  image: [2, 21, 21, 3],
  stem: [3, 3, 3, 8], // MobileNet conv1: 3x3 stride 2, Keras ((0,1),(0,1)) padding
  depthwise: [3, 3, 8, 1], // depthwise 3x3 stride 1 'same'
  pointwise: [1, 1, 8, 6], // pointwise 1x1
  resnet: [7, 7, 6, 6], // 7x7 stride 2 'same'
  head: [2, 2, 6, 5], // FxF 'valid' head
} as const satisfies Record<string, readonly number[]>;

const sizeOf = (shape: readonly number[]) => shape.reduce((a: number, b: number) => a * b, 1);

function network(weights: Record<string, tf.Tensor4D>, image: tf.Tensor4D): tf.Scalar {
  const keras: [[number, number], [number, number], [number, number], [number, number]] = [
    [0, 0],
    [0, 1],
    [0, 1],
    [0, 0],
  ];
  let x: tf.Tensor4D = tf.relu(tf.conv2d(image, weights.stem, 2, keras)); // [2, 10, 10, 8]
  x = tf.relu6(tf.depthwiseConv2d(x, weights.depthwise, 1, 'same'));
  x = tf.depthwiseConv2d(x, weights.depthwise, 2, keras); // [2, 5, 5, 8]
  x = tf.sigmoid(tf.conv2d(x, weights.pointwise, 1, 'valid')); // [2, 5, 5, 6]
  x = tf.maxPool(tf.conv2d(x, weights.resnet, 2, 'same'), 3, 2, 'same'); // [2, 2, 2, 6]
  x = tf.conv2d(x, weights.head, 1, 'valid'); // [2, 1, 1, 5]
  const upsampled = tf.image.resizeBilinear(x, [3, 3]);
  return tf.sum(tf.softplus(upsampled));
}

afterAll(() => useBackend('cpu'));

describe('a training step through every trunk layer kind', () => {
  it('has the same weight gradients on wasm as on cpu (1e-4)', async () => {
    const values = Object.fromEntries(
      Object.entries(SHAPES).map(([name, shape], i) => [name, randomValues(sizeOf(shape), 100 + i)]),
    );
    const names = Object.keys(SHAPES).filter((name) => name !== 'image');
    const { cpu, wasm } = await onBothBackends(() => {
      const image = tf.tensor4d(values.image, [...SHAPES.image]);
      const weights = Object.fromEntries(
        names.map((name) => [
          name,
          tf.tensor4d(values[name], [...SHAPES[name as keyof typeof SHAPES]] as never),
        ]),
      );
      const gradients = tf.grads((...ws: tf.Tensor[]) =>
        network(Object.fromEntries(names.map((name, i) => [name, ws[i] as tf.Tensor4D])), image),
      )(names.map((name) => weights[name]));
      return gradients;
    });
    for (let i = 0; i < names.length; i++) {
      const scale = Math.max(1, ...Array.from(cpu[i], Math.abs));
      expect(maxAbsDifference(wasm[i], cpu[i]) / scale, names[i]).toBeLessThan(1e-4);
    }
  });

  it('leaks no tensors over repeated gradient steps on wasm', async () => {
    await useBackend('wasm');
    const image = tf.tensor4d(randomValues(2 * 21 * 21 * 3, 5), [...SHAPES.image]);
    const names = Object.keys(SHAPES).filter((name) => name !== 'image');
    const weights = names.map((name, i) => {
      const shape = [...SHAPES[name as keyof typeof SHAPES]];
      return tf.tensor4d(randomValues(sizeOf(shape), 50 + i), shape as never);
    });
    const step = () => {
      const gradients = tf.grads((...ws: tf.Tensor[]) =>
        network(Object.fromEntries(names.map((name, i) => [name, ws[i] as tf.Tensor4D])), image),
      )(weights);
      tf.dispose(gradients);
    };
    expectNoGrowth(step, 3);
    tf.dispose([image, ...weights]);
  });
});
