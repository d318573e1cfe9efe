import {
  DepthwiseConv2dNativeBackpropFilter,
  type DepthwiseConv2dNativeBackpropFilterAttrs,
  type DepthwiseConv2dNativeBackpropFilterInputs,
  type KernelConfig,
  type KernelFunc,
  type TensorInfo,
} from '@tensorflow/tfjs-core';
import { convGeometry, inputWindowPadding, shape4 } from './conv-geometry.js';
import { WasmKernelScope } from './wasm-kernel-scope.js';

/**
 * dW[a, b, c, m] = sum_{n,i,j} x[n, s i + a - padTop, s j + b - padLeft, c] dy[n, i, j, c M + m]:
 * with the batch folded into the channels, one depthwise 'valid' convolution of x with dy as the
 * filter (dilated by the forward stride) gives every (n, c) correlation; a sum over n finishes it.
 */
function depthwiseBackpropFilter(args: {
  inputs: DepthwiseConv2dNativeBackpropFilterInputs;
  backend: unknown;
  attrs: DepthwiseConv2dNativeBackpropFilterAttrs;
}): TensorInfo {
  const { x, dy } = args.inputs as { x: TensorInfo; dy: TensorInfo };
  const { strides, dilations, pad, dimRoundingMode, filterShape } = args.attrs;
  const scope = new WasmKernelScope(args.backend as never);
  const g = convGeometry(
    DepthwiseConv2dNativeBackpropFilter,
    shape4(x),
    filterShape,
    strides,
    dilations,
    pad,
    dimRoundingMode,
    true,
  );
  const [fh, fw, inChannels, multiplier] = filterShape;
  const channels = inChannels * multiplier;
  const [n, h, w] = x.shape;
  // [N, H, W, C] -> [N, H, W, C M]: each input channel once per output channel it feeds.
  const xPerOutput =
    multiplier === 1
      ? x
      : scope.reshape(
          scope.run(
            'Tile',
            { x: scope.reshape(x, [n, h, w, inChannels, 1]) },
            { reps: [1, 1, 1, 1, multiplier] },
          ),
          [n, h, w, channels],
        );
  const window = scope.padOrCrop(xPerOutput, [[0, 0], ...inputWindowPadding(g), [0, 0]]);
  const [, hw, ww] = window.shape;
  // [N, H', W', CM] -> [1, H', W', N CM]
  const xFolded = scope.reshape(scope.transpose(window, [1, 2, 0, 3]), [1, hw, ww, n * channels]);
  // [N, oh, ow, CM] -> [oh, ow, N CM, 1]
  const dyFolded = scope.reshape(scope.transpose(dy, [1, 2, 0, 3]), [
    g.outHeight,
    g.outWidth,
    n * channels,
    1,
  ]);
  const perImage = scope.run(
    'DepthwiseConv2dNative',
    { x: xFolded, filter: dyFolded },
    { strides: [1, 1], pad: 'valid', dilations: g.strides },
  ); // [1, fh, fw, N CM]
  const summed = scope.run(
    'Sum',
    { x: scope.reshape(perImage, [fh, fw, n, channels]) },
    { axis: [2], keepDims: false },
  );
  return scope.finish(scope.reshape(summed, [fh, fw, inChannels, multiplier]));
}

export const depthwiseBackpropFilterConfig: KernelConfig = {
  kernelName: DepthwiseConv2dNativeBackpropFilter,
  backendName: 'wasm',
  kernelFunc: depthwiseBackpropFilter as unknown as KernelFunc,
};
