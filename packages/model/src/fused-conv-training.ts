import * as tf from '@tensorflow/tfjs-core';
import type { Padding } from './layers.js';
import { gradientThroughActivation } from './relu.js';

/** The activations whose gradient the output alone gives (ReLU6's needs its input). */
export type TrainableActivation = 'relu' | 'linear';

/**
 * conv + bias + ReLU as one FusedConv2D kernel under a gradient tape too (a forward pass of one kernel
 * where conv, add and ReLU were three), with the gradient registered below. tfjs' own fused op
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
  registerFusedConvGradient();
  const inputs: tf.NamedTensorMap = bias === undefined ? { x, filter } : { x, filter, bias };
  const attrs = { strides: [stride, stride], pad, dataFormat: 'NHWC', dilations: [1, 1], activation };
  return tf.engine().runKernel(tf.FusedConv2D, inputs, attrs as unknown as tf.NamedAttrMap) as tf.Tensor4D;
}

/**
 * Registers the gradient of FusedConv2D with a linear or ReLU activation, unless one is registered: dz = dy
 * (ReLU: `reluGradient(dy, y)`), then dx = conv2dTranspose(dz), dW = Conv2DBackpropFilter(x, dz), db = sum(dz).
 */
function registerFusedConvGradient(): void {
  if (tf.getGradient(tf.FusedConv2D) !== undefined) return;
  tf.registerGradient({
    kernelName: tf.FusedConv2D,
    inputsToSave: ['x', 'filter'],
    outputsToSave: [true],
    gradFunc: (dy, saved, attrs) => {
      const [x, filter, y] = saved as [tf.Tensor4D, tf.Tensor4D, tf.Tensor4D];
      const { strides, pad, activation, dataFormat, dilations } = attrs as unknown as tf.FusedConv2DAttrs;
      if (dataFormat !== 'NHWC' || [dilations].flat().some((d) => d !== 1)) {
        throw new Error('FusedConv2D gradient (@deepmask/model): only NHWC without dilation is supported');
      }
      const dz = gradientThroughActivation(dy as tf.Tensor, y, activation, tf.FusedConv2D) as tf.Tensor4D;
      return {
        x: () => tf.conv2dTranspose(dz, filter, x.shape, strides, pad),
        filter: () =>
          tf.engine().runKernel(tf.Conv2DBackpropFilter, { x, dy: dz }, {
            strides,
            pad,
            dataFormat,
            filterShape: filter.shape,
          } as unknown as tf.NamedAttrMap) as tf.Tensor,
        bias: () => tf.sum(dz, [0, 1, 2]),
      };
    },
  });
}
