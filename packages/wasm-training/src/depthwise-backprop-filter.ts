import {
  DepthwiseConv2dNativeBackpropFilter,
  type DepthwiseConv2dNativeBackpropFilterAttrs,
  type DepthwiseConv2dNativeBackpropFilterInputs,
  type KernelConfig,
  type KernelFunc,
  type TensorInfo,
} from '@tensorflow/tfjs-core';
import { type ConvGeometry, convGeometry, inputWindowPadding, shape4 } from './conv-geometry.js';
import { WasmKernelScope } from './wasm-kernel-scope.js';

/**
 * dW[a, b, c, m] = sum_{n,i,j} x[n, s i + a - padTop, s j + b - padLeft, c] dy[n, i, j, c M + m], with x
 * tiled to one channel per output channel: by our SIMD module where it runs, else by wasm's depthwise
 * convolution (`xnnpackGradient`).
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
  const [, , inChannels, multiplier] = filterShape;
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
          [n, h, w, inChannels * multiplier],
        );
  const gradient =
    simdGradient(scope, xPerOutput, dy, g) ??
    xnnpackGradient(scope, scope.padOrCrop(xPerOutput, [[0, 0], ...inputWindowPadding(g), [0, 0]]), dy, g);
  return scope.finish(scope.reshape(gradient, filterShape));
}

/**
 * Shares of the batch's images that both threads sum into copies of dW (where the helper thread runs):
 * MobileNet-v1's eleven at batch 4 took 18 ms a step on one thread.
 */
const IMAGE_SHARES = 8;

/**
 * [fh, fw, C M] in one pass over x, the taps in the padding skipped (~10x wasm's depthwise convolution with
 * dy as its filter).
 */
function simdGradient(
  scope: WasmKernelScope,
  x: TensorInfo,
  dy: TensorInfo,
  g: ConvGeometry,
): TensorInfo | null {
  const simd = scope.simd();
  if (simd === null) return null;
  const [batch, height, width, channels] = x.shape;
  const size = [g.filterHeight, g.filterWidth, channels];
  const copies = batch > 1 ? scope.allocate([Math.min(batch, IMAGE_SHARES), ...size]) : undefined;
  const out = scope.allocate(size);
  const [xValues, dyValues, outValues] = [x, dy, out].map((info) => scope.floats(info));
  const copiesValues = copies === undefined ? undefined : scope.floats(copies);
  const done = simd.depthwiseFilterGradient(
    xValues,
    dyValues,
    outValues,
    {
      batch,
      height,
      width,
      channels,
      outHeight: g.outHeight,
      outWidth: g.outWidth,
      filterHeight: g.filterHeight,
      filterWidth: g.filterWidth,
      strides: g.strides,
      padding: [g.padTop, g.padLeft],
    },
    copiesValues,
  );
  return done ? out : null;
}

/**
 * [fh, fw, C M]: with the batch folded into the channels, one depthwise 'valid' convolution of the window
 * with dy as the filter (dilated by the forward stride) gives every (n, c) correlation; a sum over n
 * finishes it.
 */
function xnnpackGradient(
  scope: WasmKernelScope,
  window: TensorInfo,
  dy: TensorInfo,
  g: ConvGeometry,
): TensorInfo {
  const [n, hw, ww, channels] = window.shape;
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
  return scope.run(
    'Sum',
    { x: scope.reshape(perImage, [g.filterHeight, g.filterWidth, n, channels]) },
    { axis: [2], keepDims: false },
  );
}

export const depthwiseBackpropFilterConfig: KernelConfig = {
  kernelName: DepthwiseConv2dNativeBackpropFilter,
  backendName: 'wasm',
  kernelFunc: depthwiseBackpropFilter as unknown as KernelFunc,
};
