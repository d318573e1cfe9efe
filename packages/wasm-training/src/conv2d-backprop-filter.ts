import {
  Conv2DBackpropFilter,
  type Conv2DBackpropFilterAttrs,
  type Conv2DBackpropFilterInputs,
  type KernelConfig,
  type KernelFunc,
  type TensorInfo,
} from '@tensorflow/tfjs-core';
import { type ConvGeometry, convGeometry, inputWindowPadding, shape4 } from './conv-geometry.js';
import { WasmKernelScope } from './wasm-kernel-scope.js';

/**
 * dW[a, b, c, o] = sum_{n,i,j} x[n, s i + a - padTop, s j + b - padLeft, c] dy[n, i, j, o]: a 'valid'
 * convolution of x (batch and channels swapped) with dy as the filter, dilated by the forward stride.
 * 1x1 filters are a plain matrix product instead, which wastes nothing on an indirection buffer.
 */
function conv2DBackpropFilter(args: {
  inputs: Conv2DBackpropFilterInputs;
  backend: unknown;
  attrs: Conv2DBackpropFilterAttrs;
}): TensorInfo {
  const { x, dy } = args.inputs as { x: TensorInfo; dy: TensorInfo };
  const { strides, pad, dataFormat, dimRoundingMode, filterShape } = args.attrs;
  const scope = new WasmKernelScope(args.backend as never);
  const g = convGeometry(
    Conv2DBackpropFilter,
    shape4(x),
    filterShape,
    strides,
    1,
    pad,
    dimRoundingMode,
    false,
    dataFormat,
  );
  const [fh, fw, inChannels, outChannels] = filterShape;
  const window = scope.padOrCrop(x, [[0, 0], ...inputWindowPadding(g), [0, 0]]);
  if (fh === 1 && fw === 1) {
    return scope.finish(pointwiseFilterGradient(scope, window, dy, g, inChannels, outChannels));
  }
  const xT = scope.transpose(window, [3, 1, 2, 0]); // [N, H', W', C] -> [C, H', W', N]
  const dyT = scope.transpose(dy, [1, 2, 0, 3]); // [N, oh, ow, O] -> [oh, ow, N, O]
  const grad = scope.run(
    'Conv2D',
    { x: xT, filter: dyT },
    { strides: [1, 1], pad: 'valid', dataFormat: 'NHWC', dilations: g.strides },
  ); // [C, fh, fw, O]
  return scope.finish(scope.transpose(grad, [1, 2, 0, 3]));
}

// [N, H', W', C] sampled every stride -> [N oh ow, C]^T [N oh ow, O] = [C, O] -> [1, 1, C, O]
function pointwiseFilterGradient(
  scope: WasmKernelScope,
  window: TensorInfo,
  dy: TensorInfo,
  g: ConvGeometry,
  inChannels: number,
  outChannels: number,
): TensorInfo {
  const [sh, sw] = g.strides;
  const sampled =
    sh === 1 && sw === 1 ? window : scope.stridedSlice(window, [0, 0, 0, 0], window.shape, [1, sh, sw, 1]);
  const rows = g.batchSize * g.outHeight * g.outWidth;
  const a = scope.reshape(sampled, [1, rows, inChannels]);
  const b = scope.reshape(dy, [1, rows, outChannels]);
  const product = scope.run('BatchMatMul', { a, b }, { transposeA: true, transposeB: false });
  return scope.reshape(product, [1, 1, inChannels, outChannels]);
}

export const conv2DBackpropFilterConfig: KernelConfig = {
  kernelName: Conv2DBackpropFilter,
  backendName: 'wasm',
  kernelFunc: conv2DBackpropFilter as unknown as KernelFunc,
};
