import {
  DepthwiseConv2dNativeBackpropInput,
  type DepthwiseConv2dNativeBackpropInputAttrs,
  type DepthwiseConv2dNativeBackpropInputInputs,
  type KernelConfig,
  type KernelFunc,
  type TensorInfo,
} from '@tensorflow/tfjs-core';
import { convGeometry, dilatedGradientPadding, shape4 } from './conv-geometry.js';
import { WasmKernelScope } from './wasm-kernel-scope.js';

/**
 * dx = a stride-1 'valid' depthwise convolution of dy (zero-dilated by the forward stride, then padded)
 * with the filter rotated by 180 degrees; channel multipliers M > 1 are summed back onto their input.
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
