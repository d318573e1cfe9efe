import * as tf from '@tensorflow/tfjs-core';
import { onBothBackends, randomValues, useBackend } from './backends.js';

export type Pad = 'same' | 'valid' | [[number, number], [number, number], [number, number], [number, number]];
export interface ConvCase {
  name: string;
  x: [number, number, number, number];
  filter: [number, number, number, number];
  stride: number;
  pad: Pad;
  /** The largest difference from cpu allowed (TOLERANCE unless given). */
  tolerance?: number;
}

const kerasPad: Pad = [
  [0, 0],
  [0, 1],
  [0, 1],
  [0, 0],
];
export const pad = (p: number): Pad => [
  [0, 0],
  [p, p],
  [p, p],
  [0, 0],
];

// Every convolution the trunks and heads train through, at small sizes, odd sizes included.
export const CONV_CASES: ConvCase[] = [
  { name: 'vgg 3x3 s1 same', x: [2, 9, 8, 5], filter: [3, 3, 5, 7], stride: 1, pad: 'same' },
  { name: 'vgg 3x3 s1 same (Winograd)', x: [1, 26, 23, 64], filter: [3, 3, 64, 128], stride: 1, pad: 'same' },
  { name: '3x3 s1 valid (Winograd)', x: [1, 28, 27, 64], filter: [3, 3, 64, 128], stride: 1, pad: 'valid' },
  { name: '3x3 s1 pad 1 (Winograd)', x: [2, 19, 18, 64], filter: [3, 3, 64, 128], stride: 1, pad: pad(1) },
  {
    name: '3x3 s1 same, 32 channels (Winograd F(4x4) dW)',
    x: [1, 28, 27, 32],
    filter: [3, 3, 32, 32],
    stride: 1,
    pad: 'same',
  },
  // dx by F(4x4) from 128 tiles of 4x4; dW's values (up to ~70) are sums over 2000+ positions, where
  // float32 differs from cpu's sums in another order by up to 3e-6 of the largest.
  {
    name: '3x3 s1 same (Winograd F(4x4))',
    x: [2, 34, 33, 32],
    filter: [3, 3, 32, 32],
    stride: 1,
    pad: 'same',
    tolerance: 3e-4,
  },
  {
    name: '3x3 s1 keras pad (Winograd F(4x4))',
    x: [3, 30, 29, 32],
    filter: [3, 3, 32, 32],
    stride: 1,
    pad: kerasPad,
    tolerance: 3e-4,
  },
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
  {
    name: '3x3 s2 same on an input smaller than the stride',
    x: [2, 1, 2, 3],
    filter: [3, 3, 3, 4],
    stride: 2,
    pad: 'same',
  },
  // Small filter gradients (64+ output positions, outputs a multiple of 8) sum tap by tap
  // (`directFilterGradient`): blocks of 4 channels, the last one partial (1, 2, 3 channels), taps
  // partly or wholly in the padding, positions in chunks of rows of one image or of whole images.
  {
    name: 'direct taps, 3x3 s2 same, 3 channels',
    x: [3, 11, 12, 3],
    filter: [3, 3, 3, 8],
    stride: 2,
    pad: 'same',
  },
  {
    name: 'direct taps, 3x3 s1 pad 1, 5 channels',
    x: [2, 9, 8, 5],
    filter: [3, 3, 5, 16],
    stride: 1,
    pad: pad(1),
  },
  {
    name: 'direct taps, 3x3 s2 keras pad, 6 channels',
    x: [3, 14, 13, 6],
    filter: [3, 3, 6, 8],
    stride: 2,
    pad: kerasPad,
  },
  {
    name: 'direct taps, 7x7 s2 pad 3, 7 channels',
    x: [2, 17, 16, 7],
    filter: [7, 7, 7, 8],
    stride: 2,
    pad: pad(3),
  },
  { name: 'direct taps, 1x1 s2', x: [3, 13, 12, 8], filter: [1, 1, 8, 24], stride: 2, pad: 'valid' },
  {
    name: 'direct taps, input smaller than the stride',
    x: [64, 1, 2, 3],
    filter: [3, 3, 3, 8],
    stride: 2,
    pad: 'same',
  },
  { name: 'direct taps, rows in chunks', x: [2, 40, 40, 3], filter: [3, 3, 3, 16], stride: 1, pad: 'same' },
  {
    name: 'direct taps, whole images in chunks',
    x: [3, 20, 20, 4],
    filter: [3, 3, 4, 16],
    stride: 1,
    pad: 'same',
  },
  // Small input gradients of windowed filters (channels a multiple of 8) add tap by tap onto dx
  // (`directInputGradient`): one and several blocks of 8 channels, rows of dy positions in groups of 4 and
  // a last partial group, taps partly or wholly in the padding, strides 1 to 3.
  {
    name: 'direct input taps, 3x3 s2 same, 8 channels',
    x: [3, 11, 13, 8],
    filter: [3, 3, 8, 5],
    stride: 2,
    pad: 'same',
  },
  {
    name: 'direct input taps, 3x3 s2 keras pad, 16 channels',
    x: [2, 14, 13, 16],
    filter: [3, 3, 16, 12],
    stride: 2,
    pad: kerasPad,
  },
  {
    name: 'direct input taps, 5x5 s3 pad 2',
    x: [2, 10, 11, 8],
    filter: [5, 5, 8, 8],
    stride: 3,
    pad: pad(2),
  },
  {
    name: 'direct input taps, 3x3 s2 valid',
    x: [2, 9, 9, 24],
    filter: [3, 3, 24, 7],
    stride: 2,
    pad: 'valid',
  },
  { name: 'direct input taps, 3x3 s1 valid', x: [2, 7, 6, 8], filter: [3, 3, 8, 4], stride: 1, pad: 'valid' },
  {
    name: 'direct input taps, input smaller than the stride',
    x: [4, 1, 2, 8],
    filter: [3, 3, 8, 4],
    stride: 2,
    pad: 'same',
  },
];

export const DEPTHWISE_CASES: ConvCase[] = [
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
  { name: 'dw 3x3 s2 same, 2 vectors + 1', x: [3, 11, 12, 9], filter: [3, 3, 9, 1], stride: 2, pad: 'same' },
  { name: 'dw 5x5 s1 pad 2, 16 channels', x: [2, 8, 9, 16], filter: [5, 5, 16, 1], stride: 1, pad: pad(2) },
  // Channels in multiples of 4 take our input gradient tap by tap: strides 1-3, odd and even sizes, even
  // filters, 'valid' (taps past dy's far edge), explicit and Keras padding, 4 vectors + 1, a 1-row image.
  { name: 'dw 3x3 s2 same, 8 channels', x: [2, 9, 10, 8], filter: [3, 3, 8, 1], stride: 2, pad: 'same' },
  {
    name: 'dw 3x3 s2 keras pad, 4 channels',
    x: [1, 10, 10, 4],
    filter: [3, 3, 4, 1],
    stride: 2,
    pad: kerasPad,
  },
  { name: 'dw 3x3 s2 valid, 20 channels', x: [2, 9, 8, 20], filter: [3, 3, 20, 1], stride: 2, pad: 'valid' },
  { name: 'dw 4x4 s2 same, 8 channels', x: [2, 8, 7, 8], filter: [4, 4, 8, 1], stride: 2, pad: 'same' },
  { name: 'dw 3x3 s3 pad 1, 4 channels', x: [2, 10, 11, 4], filter: [3, 3, 4, 1], stride: 3, pad: pad(1) },
  { name: 'dw 5x5 s2 same, 1-row image', x: [2, 1, 9, 12], filter: [5, 5, 12, 1], stride: 2, pad: 'same' },
  { name: 'dw 3x3 s1 valid, 4 channels', x: [2, 5, 6, 4], filter: [3, 3, 4, 1], stride: 1, pad: 'valid' },
];

export const TOLERANCE = 1e-4;

export const toleranceOf = (c: ConvCase): number => c.tolerance ?? TOLERANCE;

export function outShape(c: ConvCase, depthwise: boolean): [number, number, number, number] {
  const forward = depthwise
    ? tf.depthwiseConv2d(tf.zeros(c.x) as tf.Tensor4D, tf.zeros(c.filter) as tf.Tensor4D, c.stride, c.pad)
    : tf.conv2d(tf.zeros(c.x) as tf.Tensor4D, tf.zeros(c.filter) as tf.Tensor4D, c.stride, c.pad);
  const shape = forward.shape as [number, number, number, number];
  forward.dispose();
  return shape;
}

export function sizeOf(shape: number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/**
 * Both gradients of the convolution (or with `depthwise` the depthwise convolution) of `c`, on cpu and on
 * wasm, from the same values: [filter gradient, input gradient].
 */
export async function convolutionGradients(c: ConvCase, depthwise = false) {
  await useBackend('cpu');
  const dyShape = outShape(c, depthwise);
  const xValues = randomValues(sizeOf(c.x), 11);
  const filterValues = randomValues(sizeOf(c.filter), 12);
  const dyValues = randomValues(sizeOf(dyShape), 13);
  const [filterKernel, inputKernel] = depthwise
    ? ['DepthwiseConv2dNativeBackpropFilter', 'DepthwiseConv2dNativeBackpropInput']
    : ['Conv2DBackpropFilter', 'Conv2DBackpropInput'];
  const attrs: tf.NamedAttrMap = depthwise
    ? { strides: [c.stride, c.stride], dilations: [1, 1], pad: c.pad }
    : { strides: [c.stride, c.stride], pad: c.pad, dataFormat: 'NHWC' };
  return onBothBackends(() => {
    const x = tf.tensor4d(xValues, c.x);
    const filter = tf.tensor4d(filterValues, c.filter);
    const dy = tf.tensor4d(dyValues, dyShape);
    const run = (kernel: string, inputs: tf.NamedTensorMap, shape: Record<string, number[]>) =>
      tf.engine().runKernel(kernel, inputs, { ...attrs, ...shape }) as tf.Tensor;
    return [
      run(filterKernel, { x, dy }, { filterShape: c.filter }),
      run(inputKernel, { dy, filter }, { inputShape: c.x }),
    ];
  });
}
