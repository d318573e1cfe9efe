import * as tf from '@tensorflow/tfjs-core';
import { afterAll, describe, expect, it } from 'vitest';
import { setWindowMatrixBudget } from '../src/im2col.js';
import { registerWasmTrainingKernels } from '../src/index.js';
import { maxAbsDifference, onBothBackends, randomValues, useBackend } from './backends.js';

type Pad = 'same' | 'valid' | [[number, number], [number, number], [number, number], [number, number]];
interface ConvCase {
  name: string;
  x: [number, number, number, number];
  filter: [number, number, number, number];
  stride: number;
  pad: Pad;
}

const kerasPad: Pad = [
  [0, 0],
  [0, 1],
  [0, 1],
  [0, 0],
];
const pad = (p: number): Pad => [
  [0, 0],
  [p, p],
  [p, p],
  [0, 0],
];

// Every convolution the trunks and heads train through, at small sizes, odd sizes included.
const CONV_CASES: ConvCase[] = [
  { name: 'vgg 3x3 s1 same', x: [2, 9, 8, 5], filter: [3, 3, 5, 7], stride: 1, pad: 'same' },
  { name: 'resnet stem 7x7 s2 pad 3', x: [2, 17, 16, 3], filter: [7, 7, 3, 6], stride: 2, pad: pad(3) },
  { name: 'resnet stem 7x7 s2 same', x: [1, 16, 15, 3], filter: [7, 7, 3, 4], stride: 2, pad: 'same' },
  { name: 'resnet 1x1 s1', x: [2, 7, 7, 6], filter: [1, 1, 6, 5], stride: 1, pad: 'valid' },
  { name: 'resnet 1x1 s2', x: [2, 9, 8, 6], filter: [1, 1, 6, 5], stride: 2, pad: 'valid' },
  { name: 'resnet 1x1 s2 same', x: [2, 9, 8, 6], filter: [1, 1, 6, 5], stride: 2, pad: 'same' },
  { name: 'resnet 3x3 s2 pad 1', x: [2, 9, 10, 4], filter: [3, 3, 4, 5], stride: 2, pad: pad(1) },
  { name: 'resnet 3x3 s2 same', x: [2, 8, 9, 4], filter: [3, 3, 4, 5], stride: 2, pad: 'same' },
  {
    name: 'mobilenet conv1 3x3 s2 keras pad',
    x: [2, 10, 10, 3],
    filter: [3, 3, 3, 8],
    stride: 2,
    pad: kerasPad,
  },
  { name: 'head FxF valid (patch form)', x: [3, 5, 5, 6], filter: [5, 5, 6, 7], stride: 1, pad: 'valid' },
  { name: 'head FxF valid (dense form)', x: [1, 8, 7, 6], filter: [5, 5, 6, 7], stride: 1, pad: 'valid' },
];

const DEPTHWISE_CASES: ConvCase[] = [
  { name: 'mobilenet dw 3x3 s1 same', x: [2, 9, 8, 6], filter: [3, 3, 6, 1], stride: 1, pad: 'same' },
  { name: 'mobilenet dw 3x3 s2 same', x: [2, 9, 10, 6], filter: [3, 3, 6, 1], stride: 2, pad: 'same' },
  {
    name: 'mobilenet dw 3x3 s2 keras pad',
    x: [2, 10, 10, 6],
    filter: [3, 3, 6, 1],
    stride: 2,
    pad: kerasPad,
  },
  { name: 'mobilenet dw 3x3 s1 pad 1', x: [2, 7, 7, 4], filter: [3, 3, 4, 1], stride: 1, pad: pad(1) },
  { name: 'dw 3x3 s2 multiplier 2', x: [2, 9, 9, 3], filter: [3, 3, 3, 2], stride: 2, pad: 'same' },
  { name: 'dw 3x3 s1 valid', x: [2, 6, 7, 3], filter: [3, 3, 3, 1], stride: 1, pad: 'valid' },
];

interface PoolCase {
  name: string;
  x: [number, number, number, number];
  size: number;
  stride: number;
  pad: Pad;
  /** How the input is made: 'signed' in [-1, 1), 'relu' (many exact-zero ties), 'negative' (all < 0). */
  values: 'signed' | 'relu' | 'negative';
}

const POOL_CASES: PoolCase[] = [
  { name: 'resnet 3x3 s2 same', x: [2, 9, 8, 3], size: 3, stride: 2, pad: 'same', values: 'signed' },
  { name: 'resnet 3x3 s2 pad 1', x: [2, 8, 8, 3], size: 3, stride: 2, pad: pad(1), values: 'signed' },
  {
    name: 'resnet 3x3 s2 same after relu (ties)',
    x: [2, 8, 9, 4],
    size: 3,
    stride: 2,
    pad: 'same',
    values: 'relu',
  },
  { name: 'score head 2x2 s2 valid', x: [3, 6, 6, 5], size: 2, stride: 2, pad: 'valid', values: 'signed' },
  {
    name: 'vgg 2x2 s2 valid, all negative',
    x: [2, 7, 6, 3],
    size: 2,
    stride: 2,
    pad: 'valid',
    values: 'negative',
  },
  { name: 'fine-stride 2x2 s1 valid', x: [1, 5, 5, 2], size: 2, stride: 1, pad: 'valid', values: 'signed' },
];

const TOLERANCE = 1e-4;

function outShape(c: ConvCase, depthwise: boolean): [number, number, number, number] {
  const forward = depthwise
    ? tf.depthwiseConv2d(tf.zeros(c.x) as tf.Tensor4D, tf.zeros(c.filter) as tf.Tensor4D, c.stride, c.pad)
    : tf.conv2d(tf.zeros(c.x) as tf.Tensor4D, tf.zeros(c.filter) as tf.Tensor4D, c.stride, c.pad);
  const shape = forward.shape as [number, number, number, number];
  forward.dispose();
  return shape;
}

function sizeOf(shape: number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

afterAll(async () => {
  await useBackend('cpu');
});

describe('registerWasmTrainingKernels', () => {
  it('is idempotent and leaves the gradient kernels registered for wasm only', async () => {
    registerWasmTrainingKernels();
    registerWasmTrainingKernels();
    for (const name of [
      'Conv2DBackpropFilter',
      'Conv2DBackpropInput',
      'DepthwiseConv2dNativeBackpropFilter',
      'DepthwiseConv2dNativeBackpropInput',
      'MaxPoolGrad',
    ]) {
      expect(tf.getKernel(name, 'wasm'), name).toBeDefined();
    }
  });
});

/** Both convolution gradients of `c` on cpu and on wasm, from the same values. */
async function convGradients(c: ConvCase) {
  await useBackend('cpu');
  const dyShape = outShape(c, false);
  const xValues = randomValues(sizeOf(c.x), 11);
  const filterValues = randomValues(sizeOf(c.filter), 12);
  const dyValues = randomValues(sizeOf(dyShape), 13);
  return onBothBackends(() => {
    const x = tf.tensor4d(xValues, c.x);
    const filter = tf.tensor4d(filterValues, c.filter);
    const dy = tf.tensor4d(dyValues, dyShape);
    const attrs = { strides: [c.stride, c.stride], pad: c.pad, dataFormat: 'NHWC' };
    return [
      tf
        .engine()
        .runKernel('Conv2DBackpropFilter', { x, dy }, { ...attrs, filterShape: c.filter }) as tf.Tensor,
      tf
        .engine()
        .runKernel('Conv2DBackpropInput', { dy, filter }, { ...attrs, inputShape: c.x }) as tf.Tensor,
    ];
  });
}

describe.each(CONV_CASES)('conv2d $name', (c) => {
  it('Conv2DBackpropFilter and Conv2DBackpropInput equal cpu within 1e-4', async () => {
    const { cpu, wasm } = await convGradients(c);
    expect(maxAbsDifference(wasm[0], cpu[0])).toBeLessThan(TOLERANCE);
    expect(maxAbsDifference(wasm[1], cpu[1])).toBeLessThan(TOLERANCE);
  });
});

describe.each(CONV_CASES)('conv2d $name, one output position per window matrix', (c) => {
  it('sums the chunks to the same gradients as cpu', async () => {
    const budget = setWindowMatrixBudget(1);
    try {
      const { cpu, wasm } = await convGradients(c);
      expect(maxAbsDifference(wasm[0], cpu[0])).toBeLessThan(TOLERANCE);
      expect(maxAbsDifference(wasm[1], cpu[1])).toBeLessThan(TOLERANCE);
    } finally {
      setWindowMatrixBudget(budget);
    }
  });
});

describe.each(DEPTHWISE_CASES)('depthwiseConv2d $name', (c) => {
  it('DepthwiseConv2dNativeBackpropFilter and ...BackpropInput equal cpu within 1e-4', async () => {
    await useBackend('cpu');
    const dyShape = outShape(c, true);
    const xValues = randomValues(sizeOf(c.x), 21);
    const filterValues = randomValues(sizeOf(c.filter), 22);
    const dyValues = randomValues(sizeOf(dyShape), 23);
    const { cpu, wasm } = await onBothBackends(() => {
      const x = tf.tensor4d(xValues, c.x);
      const filter = tf.tensor4d(filterValues, c.filter);
      const dy = tf.tensor4d(dyValues, dyShape);
      const attrs = { strides: [c.stride, c.stride], dilations: [1, 1], pad: c.pad };
      return [
        tf
          .engine()
          .runKernel(
            'DepthwiseConv2dNativeBackpropFilter',
            { x, dy },
            { ...attrs, filterShape: c.filter },
          ) as tf.Tensor,
        tf
          .engine()
          .runKernel(
            'DepthwiseConv2dNativeBackpropInput',
            { dy, filter },
            { ...attrs, inputShape: c.x },
          ) as tf.Tensor,
      ];
    });
    expect(maxAbsDifference(wasm[0], cpu[0])).toBeLessThan(TOLERANCE);
    expect(maxAbsDifference(wasm[1], cpu[1])).toBeLessThan(TOLERANCE);
  });
});

describe.each(POOL_CASES)('maxPool $name', (c) => {
  it('MaxPoolGrad equals cpu within 1e-4', async () => {
    await useBackend('cpu');
    const pooled = tf.maxPool(tf.zeros(c.x) as tf.Tensor4D, c.size, c.stride, c.pad);
    const dyShape = pooled.shape;
    pooled.dispose();
    const signed = randomValues(sizeOf(c.x), 31);
    const xValues = signed.map((v) =>
      c.values === 'relu' ? Math.max(v, 0) : c.values === 'negative' ? -1 - v : v,
    );
    const dyValues = randomValues(sizeOf(dyShape), 32);
    const { cpu, wasm } = await onBothBackends(() => {
      const x = tf.tensor4d(xValues, c.x);
      const y = tf.maxPool(x, c.size, c.stride, c.pad);
      const dy = tf.tensor4d(dyValues, dyShape);
      const attrs = { filterSize: [c.size, c.size], strides: [c.stride, c.stride], pad: c.pad };
      return tf.engine().runKernel('MaxPoolGrad', { dy, input: x, output: y }, attrs) as tf.Tensor;
    });
    expect(maxAbsDifference(wasm[0], cpu[0])).toBeLessThan(TOLERANCE);
  });
});
