import * as tf from '@tensorflow/tfjs-core';
import { expect, it } from 'vitest';
import {
  type TrainableActivation,
  trainableFusedConv,
  trainableFusedDepthwiseConv,
} from '../src/fused-conv-training.js';
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
  /** A depthwise conv (filter [k, k, c, 1]): FusedDepthwiseConv2D. */
  depthwise?: boolean;
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
  {
    name: '1x1 s1 valid, ReLU6',
    x: [2, 5, 6, 16],
    filter: [1, 1, 16, 12],
    stride: 1,
    pad: 'valid',
    activation: 'relu6',
    bias: true,
  },
  {
    name: '3x3 s2 same, ReLU6',
    x: [2, 9, 8, 4],
    filter: [3, 3, 4, 8],
    stride: 2,
    pad: 'same',
    activation: 'relu6',
    bias: true,
  },
  {
    name: 'depthwise 3x3 s1 same, ReLU6',
    x: [2, 7, 6, 8],
    filter: [3, 3, 8, 1],
    stride: 1,
    pad: 'same',
    activation: 'relu6',
    bias: true,
    depthwise: true,
  },
  {
    name: 'depthwise 3x3 s2 same, ReLU6',
    x: [2, 9, 8, 12],
    filter: [3, 3, 12, 1],
    stride: 2,
    pad: 'same',
    activation: 'relu6',
    bias: true,
    depthwise: true,
  },
  {
    name: 'depthwise 3x3 s1 pad 1, ReLU, no bias',
    x: [1, 6, 5, 4],
    filter: [3, 3, 4, 1],
    stride: 1,
    pad: 1,
    activation: 'relu',
    bias: false,
    depthwise: true,
  },
  {
    name: 'depthwise 3x3 s2 valid, linear',
    x: [1, 9, 9, 8],
    filter: [3, 3, 8, 1],
    stride: 2,
    pad: 'valid',
    activation: 'linear',
    bias: true,
    depthwise: true,
  },
];

/** conv2d or depthwiseConv2d, as tfjs' unfused ops. */
const plainConv = (c: Case, x: tf.Tensor4D, filter: tf.Tensor4D) =>
  c.depthwise
    ? tf.depthwiseConv2d(x, filter, c.stride, c.pad as never)
    : tf.conv2d(x, filter, c.stride, c.pad as never);

/** The fused kernel under test for the case. */
const fusedConv = (c: Case, x: tf.Tensor4D, filter: tf.Tensor4D, bias: tf.Tensor | undefined) =>
  (c.depthwise ? trainableFusedDepthwiseConv : trainableFusedConv)(
    x,
    filter,
    bias,
    c.stride,
    c.pad,
    c.activation,
  );

/** The case's output channels: a depthwise filter's c, else its fourth axis. */
const outChannels = (c: Case) => (c.depthwise ? c.filter[2] : c.filter[3]);

const ACTIVATIONS = { relu: tf.relu, relu6: tf.relu6, linear: (y: tf.Tensor) => y };

const values = (shape: number[], seed: number) => tf.randomNormal(shape, 0, 1, 'float32', seed);

describeEachBackend('trainableFusedConv', () => {
  for (const c of CASES) {
    it(`${c.name}: has the values and gradients of the conv + add + activation`, () => {
      // Inputs of scale 3: outputs reach past 6, where ReLU6 clips them.
      const x = tf.mul(values(c.x, 1), 3) as tf.Tensor4D;
      const filter = values(c.filter, 2) as tf.Tensor4D;
      const bias = values([outChannels(c)], 3);
      const plain = (xs: tf.Tensor4D, w: tf.Tensor4D, b: tf.Tensor) => {
        const y = plainConv(c, xs, w);
        return ACTIVATIONS[c.activation](c.bias ? tf.add(y, b) : y) as tf.Tensor4D;
      };
      const fused = (xs: tf.Tensor4D, w: tf.Tensor4D, b: tf.Tensor) =>
        fusedConv(c, xs, w, c.bias ? b : undefined);
      const outShape = tf.tidy(() => plain(x, filter, bias).shape);
      if (c.activation === 'relu6') {
        const clipped = tf.tidy(() => tf.sum(tf.equal(plain(x, filter, bias), 6)).dataSync()[0]);
        expect(clipped).toBeGreaterThan(0);
      }
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

  it.each([
    { c: CASES[0], filterGradient: 'Conv2DBackpropFilter', inputGradient: 'Conv2DBackpropInput' },
    {
      c: CASES.find((c) => c.depthwise)!,
      filterGradient: 'DepthwiseConv2dNativeBackpropFilter',
      inputGradient: 'DepthwiseConv2dNativeBackpropInput',
    },
  ])('computes $inputGradient only for an input that leads to a variable', async ({ c, ...names }) => {
    const x = values(c.x, 1) as tf.Tensor4D;
    const filter = tf.variable(values(c.filter, 2), true, `fused-test/${names.filterGradient}/filter`);
    const bias = tf.variable(values([outChannels(c)], 3), true, `fused-test/${names.filterGradient}/bias`);
    const scale = tf.variable(tf.scalar(1.5), true, `fused-test/${names.filterGradient}/scale`);
    const kernelsOfStep = async (scaleInput: boolean) => {
      const profile = await tf.profile(() => {
        const { value, grads } = tf.variableGrads(() => {
          const input = scaleInput ? (tf.mul(x, scale) as tf.Tensor4D) : x;
          return tf.sum(fusedConv(c, input, filter as tf.Tensor4D, bias));
        });
        tf.dispose([value, ...Object.values(grads)]);
      });
      return profile.kernels.map((k) => k.name);
    };
    const constantInput = await kernelsOfStep(false);
    expect(constantInput).toContain(names.filterGradient);
    expect(constantInput).not.toContain(names.inputGradient);
    expect(await kernelsOfStep(true)).toContain(names.inputGradient);
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
