import {
  Conv2DBackpropFilter,
  type Conv2DBackpropFilterAttrs,
  type Conv2DBackpropFilterInputs,
  type KernelConfig,
  type KernelFunc,
  type TensorInfo,
} from '@tensorflow/tfjs-core';
import { type ConvGeometry, convGeometry, shape4 } from './conv-geometry.js';
import { im2colTransposed, windowChunks } from './im2col.js';
import { WasmKernelScope } from './wasm-kernel-scope.js';

/**
 * dW[a, b, c, o] = sum_{n,i,j} x[n, s i + a - padTop, s j + b - padLeft, c] dy[n, i, j, o]: the windows of
 * x as columns (im2col, built in wasm memory) times dy, one XNNPACK matrix product per chunk of images.
 * Replaces a convolution of x^T with dy as the filter, whose 4-channel (batch) inner loop ran at a
 * fraction of the GEMM speed.
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
  let sum: TensorInfo | undefined;
  for (const [first, count] of windowChunks(g, inChannels)) {
    const dyRows = scope.matrixRows(dy, first, count);
    const windows = windowMatrix(scope, x, g, inChannels, first, count);
    const partial = scope.run(
      'BatchMatMul',
      { a: windows.matrix, b: dyRows },
      { transposeA: windows.transposeA, transposeB: false },
    );
    sum = sum === undefined ? partial : scope.run('Add', { a: sum, b: partial });
  }
  return scope.finish(scope.reshape(sum!, [fh, fw, inChannels, outChannels]));
}

/**
 * The windows at output positions `first .. first + count - 1` as the columns of `op(matrix)` =
 * [1, fh fw C, count]: x's pixels themselves where those are the windows (1x1, stride 1, no padding;
 * BatchMatMul then picks the cheaper transpose), else built transposed by im2col.
 */
function windowMatrix(
  scope: WasmKernelScope,
  x: TensorInfo,
  g: ConvGeometry,
  channels: number,
  first: number,
  count: number,
): { matrix: TensorInfo; transposeA: boolean } {
  const windowSize = g.filterHeight * g.filterWidth * channels;
  const samePixels = g.inHeight === g.outHeight && g.inWidth === g.outWidth;
  if (windowSize === channels && samePixels && g.padTop === 0 && g.padLeft === 0) {
    return { matrix: scope.matrixRows(x, first, count), transposeA: true };
  }
  const colsT = scope.allocate([1, windowSize, count]);
  im2colTransposed(scope.floats(x), g, channels, first, scope.floats(colsT));
  return { matrix: colsT, transposeA: false };
}

export const conv2DBackpropFilterConfig: KernelConfig = {
  kernelName: Conv2DBackpropFilter,
  backendName: 'wasm',
  kernelFunc: conv2DBackpropFilter as unknown as KernelFunc,
};
