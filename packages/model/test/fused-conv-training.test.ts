import * as tf from '@tensorflow/tfjs-core';
import { expect, it } from 'vitest';
import { type TrainableActivation, trainableFusedConv } from '../src/fused-conv-training.js';
import type { Padding } from '../src/layers.js';
import { describeEachBackend, maxAbsDiff } from './backends.js';

interface Case {
  name: string;
  x: [number, number, number, number];
  filter: [number, number, number, number];
  stride: number;
  pad: Padding;
  activation: TrainableActivation;
  bias: boolean;
}

const CASES: Case[] = [
  {
    name: '3x3 s1 same, ReLU',
    x: [2, 7, 6, 3],
    filter: [3, 3, 3, 8],
    stride: 1,
    pad: 'same',
    activation: 'relu',
    bias: true,
  },
  {
    name: '3x3 s2 pad 1, linear',
    x: [2, 9, 8, 4],
    filter: [3, 3, 4, 5],
    stride: 2,
    pad: 1,
    activation: 'linear',
    bias: true,
  },
  {
    name: '1x1 s2 valid, ReLU, no bias',
    x: [1, 6, 7, 6],
    filter: [1, 1, 6, 4],
    stride: 2,
    pad: 'valid',
    activation: 'relu',
    bias: false,
  },
  {
    name: '7x7 s2 pad 3, ReLU',
    x: [1, 12, 11, 3],
    filter: [7, 7, 3, 8],
    stride: 2,
    pad: 3,
    activation: 'relu',
    bias: true,
  },
];

const values = (shape: number[], seed: number) => tf.randomNormal(shape, 0, 1, 'float32', seed);

describeEachBackend('trainableFusedConv', () => {
  for (const c of CASES) {
    it(`${c.name}: has the values and gradients of conv2d + add + ReLU`, () => {
      const x = values(c.x, 1) as tf.Tensor4D;
      const filter = values(c.filter, 2) as tf.Tensor4D;
      const bias = values([c.filter[3]], 3);
      const plain = (xs: tf.Tensor4D, w: tf.Tensor4D, b: tf.Tensor) => {
        const y = tf.conv2d(xs, w, c.stride, c.pad);
        const biased = c.bias ? tf.add(y, b) : y;
        return c.activation === 'relu' ? tf.relu(biased) : biased;
      };
      const fused = (xs: tf.Tensor4D, w: tf.Tensor4D, b: tf.Tensor) =>
        trainableFusedConv(xs, w, c.bias ? b : undefined, c.stride, c.pad, c.activation);
      const outShape = tf.tidy(() => plain(x, filter, bias).shape);
      const weights = values(outShape, 4);
      const inputs = c.bias ? [x, filter, bias] : [x, filter];
      const gradients = (f: typeof plain) =>
        tf.valueAndGrads((xs: tf.Tensor, w: tf.Tensor, b?: tf.Tensor) =>
          tf.sum(tf.mul(f(xs as tf.Tensor4D, w as tf.Tensor4D, b ?? bias), weights)),
        )(inputs);
      const expected = gradients(plain);
      const got = gradients(fused);
      const total = Math.abs(expected.value.dataSync()[0]);
      expect(maxAbsDiff(got.value, expected.value)).toBeLessThan(1e-4 * Math.max(total, 1));
      for (const [k, name] of ['x', 'filter', 'bias'].slice(0, inputs.length).entries()) {
        const scale = tf.tidy(() => tf.max(tf.abs(expected.grads[k])).dataSync()[0]);
        expect(maxAbsDiff(got.grads[k], expected.grads[k]), name).toBeLessThan(1e-4 * Math.max(scale, 1));
      }
      tf.dispose([x, filter, bias, weights, expected.value, got.value, ...expected.grads, ...got.grads]);
    });
  }

  it('computes the input gradient only for an input that leads to a variable', async () => {
    const c = CASES[0];
    const x = values(c.x, 1) as tf.Tensor4D;
    const filter = tf.variable(values(c.filter, 2), true, 'fused-test/filter');
    const bias = tf.variable(values([c.filter[3]], 3), true, 'fused-test/bias');
    const scale = tf.variable(tf.scalar(1.5), true, 'fused-test/scale');
    const kernelsOfStep = async (scaleInput: boolean) => {
      const profile = await tf.profile(() => {
        const { value, grads } = tf.variableGrads(() => {
          const input = scaleInput ? (tf.mul(x, scale) as tf.Tensor4D) : x;
          return tf.sum(
            trainableFusedConv(input, filter as tf.Tensor4D, bias, c.stride, c.pad, c.activation),
          );
        });
        tf.dispose([value, ...Object.values(grads)]);
      });
      return profile.kernels.map((k) => k.name);
    };
    const constantInput = await kernelsOfStep(false);
    expect(constantInput).toContain('Conv2DBackpropFilter');
    expect(constantInput).not.toContain('Conv2DBackpropInput');
    expect(await kernelsOfStep(true)).toContain('Conv2DBackpropInput');
    tf.dispose([x, filter, bias, scale]);
  });

  it('leaves no tensor behind over repeated training steps', () => {
    const c = CASES[1];
    const x = values(c.x, 1) as tf.Tensor4D;
    const filter = tf.variable(values(c.filter, 2), true, 'fused-leak/filter');
    const bias = tf.variable(values([c.filter[3]], 3), true, 'fused-leak/bias');
    const step = () => {
      const { value, grads } = tf.variableGrads(() =>
        tf.sum(trainableFusedConv(x, filter as tf.Tensor4D, bias, c.stride, c.pad, c.activation)),
      );
      tf.dispose([value, ...Object.values(grads)]);
    };
    step();
    const before = tf.memory().numTensors;
    for (let i = 0; i < 3; i++) step();
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([x, filter, bias]);
  });
});
