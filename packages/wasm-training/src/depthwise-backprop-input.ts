import {
  type Conv2DAttrs,
  DepthwiseConv2dNativeBackpropInput,
  type DepthwiseConv2dNativeBackpropInputAttrs,
  type DepthwiseConv2dNativeBackpropInputInputs,
  type KernelConfig,
  type KernelFunc,
  type TensorInfo,
} from '@tensorflow/tfjs-core';
import { convGeometry, dilatedGradientPadding, plainStrides, shape4 } from './conv-geometry.js';
import { depthwiseGeometry, depthwiseProduct, runDepthwiseRows } from './depthwise-conv2d.js';
import { WasmKernelScope } from './wasm-kernel-scope.js';

/**
 * dx of a depthwise convolution. Where our product module takes the filter (multiplier 1, channels a
 * multiple of 4, no dilation): each pixel of dx sums the taps that its stride puts on a pixel of dy
 * (`depthwiseInputGradientRows`, on both threads), no zero multiplied and nothing padded. Otherwise a
 * stride-1 'valid' depthwise convolution of dy (zero-dilated by the forward stride, then padded) with the
 * filter rotated by 180 degrees; channel multipliers M > 1 are summed back onto their input.
 */
function depthwiseBackpropInput(args: {
  inputs: DepthwiseConv2dNativeBackpropInputInputs;
  backend: unknown;
  attrs: DepthwiseConv2dNativeBackpropInputAttrs;
}): TensorInfo {
  const { dy, filter } = args.inputs as { dy: TensorInfo; filter: TensorInfo };
  const { strides, dilations, pad, dimRoundingMode, inputShape } = args.attrs;
  const scope = new WasmKernelScope(args.backend as never);
  const g = convGeometry(
    DepthwiseConv2dNativeBackpropInput,
    inputShape,
    shape4(filter),
    strides,
    dilations,
    pad,
    dimRoundingMode,
    true,
  );
  const [fh, fw, inChannels, multiplier] = filter.shape;
  const product = plainStrides(args.attrs as unknown as Conv2DAttrs) && depthwiseProduct(scope, dy, filter);
  if (product) {
    const dx = scope.allocate([g.batchSize, g.inHeight, g.inWidth, inChannels]);
    const geometry = depthwiseGeometry(g, fh, fw, inChannels);
    runDepthwiseRows(
      scope,
      product,
      'depthwiseInputGradientRows',
      geometry,
      [dy, filter, dx],
      g.batchSize * g.inHeight,
    );
    return scope.finish(dx);
  }
  const channels = inChannels * multiplier;
  const dilated = scope.dilate(dy, g.strides);
  const padded = scope.padOrCrop(dilated, [[0, 0], ...dilatedGradientPadding(g), [0, 0]]);
  const rotated = scope.reshape(scope.run('Reverse', { x: filter }, { dims: [0, 1] }), [fh, fw, channels, 1]);
  const perOutput = scope.run(
    'DepthwiseConv2dNative',
    { x: padded, filter: rotated },
    { strides: [1, 1], pad: 'valid', dilations: [1, 1] },
  ); // [N, H, W, C M]
  if (multiplier === 1) return scope.finish(perOutput);
  const [n, h, w] = inputShape;
  const summed = scope.run(
    'Sum',
    { x: scope.reshape(perOutput, [n, h, w, inChannels, multiplier]) },
    { axis: [4], keepDims: false },
  );
  return scope.finish(summed);
}

export const depthwiseBackpropInputConfig: KernelConfig = {
  kernelName: DepthwiseConv2dNativeBackpropInput,
  backendName: 'wasm',
  kernelFunc: depthwiseBackpropInput as unknown as KernelFunc,
};
