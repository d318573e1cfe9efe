import * as tf from '@tensorflow/tfjs-core';
import type { Padding } from './layers.js';
import { gradientThroughActivation } from './relu.js';

/**
 * The activations whose gradient the output gives (ReLU6's as 0 where the output is 6, PyTorch's choice at
 * an input of exactly 6: see `gradientThroughActivation`).
 */
export type TrainableActivation = 'relu' | 'relu6' | 'linear';

/**
 * conv + bias + activation as one FusedConv2D kernel under a gradient tape too (a forward pass of one kernel
 * where conv, add and activation were three), with the gradient registered below. tfjs' own fused op
 * differentiates through customGrad, which computes the gradients of all its inputs at once: the input
 * image's (a whole Conv2DBackpropInput in a trunk's first layer) and a frozen bias's would be wasted. The
 * engine runs a registered gradient's functions only for the inputs that lead to a variable.
 */
export function trainableFusedConv(
  x: tf.Tensor4D,
  filter: tf.Tensor4D,
  bias: tf.Tensor | undefined,
  stride: number,
  pad: Padding,
  activation: TrainableActivation,
): tf.Tensor4D {
  registerOnce(tf.FusedConv2D, (dz, [x, filter], attrs) => {
    const { strides, pad, dataFormat } = attrs as unknown as tf.FusedConv2DAttrs;
    return {
      x: () => tf.conv2dTranspose(dz, filter as tf.Tensor4D, x.shape as Shape4, strides, pad),
      filter: () =>
        tf.engine().runKernel(tf.Conv2DBackpropFilter, { x, dy: dz }, {
          strides,
          pad,
          dataFormat,
          filterShape: filter.shape,
        } as unknown as tf.NamedAttrMap) as tf.Tensor,
    };
  });
  return runFused(tf.FusedConv2D, x, filter, bias, stride, pad, activation);
}

/**
 * The same for a depthwise conv (FusedDepthwiseConv2D): one kernel where a depthwise conv, an add and an
 * activation were three passes over the activations, each saving its tensors for the gradient.
 */
export function trainableFusedDepthwiseConv(
  x: tf.Tensor4D,
  filter: tf.Tensor4D,
  bias: tf.Tensor | undefined,
  stride: number,
  pad: Padding,
  activation: TrainableActivation,
): tf.Tensor4D {
  registerOnce(tf.FusedDepthwiseConv2D, (dz, [x, filter], attrs) => {
    const { strides, pad, dilations, dimRoundingMode } = attrs as unknown as tf.FusedDepthwiseConv2DAttrs;
    const common = { strides, pad, dilations, dimRoundingMode };
    return {
      x: () =>
        tf.engine().runKernel(tf.DepthwiseConv2dNativeBackpropInput, { dy: dz, filter }, {
          ...common,
          inputShape: x.shape,
        } as unknown as tf.NamedAttrMap) as tf.Tensor,
      filter: () =>
        tf.engine().runKernel(tf.DepthwiseConv2dNativeBackpropFilter, { x, dy: dz }, {
          ...common,
          filterShape: filter.shape,
        } as unknown as tf.NamedAttrMap) as tf.Tensor,
    };
  });
  return runFused(tf.FusedDepthwiseConv2D, x, filter, bias, stride, pad, activation);
}

type Shape4 = [number, number, number, number];

/** The gradients of a fused conv's x and filter from dz, the gradient of its output before the activation. */
type ConvGradients = (
  dz: tf.Tensor4D,
  saved: [tf.Tensor, tf.Tensor],
  attrs: tf.NamedAttrMap,
) => Record<'x' | 'filter', () => tf.Tensor>;

function runFused(
  kernelName: string,
  x: tf.Tensor4D,
  filter: tf.Tensor4D,
  bias: tf.Tensor | undefined,
  stride: number,
  pad: Padding,
  activation: TrainableActivation,
): tf.Tensor4D {
  const inputs: tf.NamedTensorMap = bias === undefined ? { x, filter } : { x, filter, bias };
  const attrs = { strides: [stride, stride], pad, dataFormat: 'NHWC', dilations: [1, 1], activation };
  return tf.engine().runKernel(kernelName, inputs, attrs as unknown as tf.NamedAttrMap) as tf.Tensor4D;
}

/**
 * Registers the gradient of a fused conv kernel with a linear, ReLU or ReLU6 activation, unless one is
 * registered: dz = dy through the activation (`gradientThroughActivation`, from the output), then x's and
 * the filter's gradients from `gradients`, the bias's the sum of dz over all but the channels.
 */
function registerOnce(kernelName: string, gradients: ConvGradients): void {
  if (tf.getGradient(kernelName) !== undefined) return;
  tf.registerGradient({
    kernelName,
    inputsToSave: ['x', 'filter'],
    outputsToSave: [true],
    gradFunc: (dy, saved, attrs) => {
      const [x, filter, y] = saved;
      const { activation, dataFormat, dilations } = attrs as unknown as tf.FusedConv2DAttrs;
      if (dataFormat !== 'NHWC' || [dilations].flat().some((d) => d !== 1)) {
        throw new Error(`${kernelName} gradient (@deepmask/model): only NHWC without dilation is supported`);
      }
      const dz = gradientThroughActivation(dy as tf.Tensor, y, activation, kernelName) as tf.Tensor4D;
      return { ...gradients(dz, [x, filter], attrs), bias: () => tf.sum(dz, [0, 1, 2]) };
    },
  });
}
