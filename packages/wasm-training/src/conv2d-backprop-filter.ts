import {
  Conv2DBackpropFilter,
  type Conv2DBackpropFilterAttrs,
  type Conv2DBackpropFilterInputs,
  type KernelConfig,
  type KernelFunc,
  type TensorInfo,
} from '@tensorflow/tfjs-core';
import { convGeometry, shape4 } from './conv-geometry.js';
import { directFilterGradient } from './direct-filter-gradient.js';
import { phaseTap, splitPhases, tapColumns, windowChunks } from './im2col.js';
import { packedProduct } from './packed-product.js';
import { wasmMemoryOf } from './wasm-heap.js';
import { WasmKernelScope } from './wasm-kernel-scope.js';
import { winogradFilterGradient, winogradTileSize } from './winograd-conv2d.js';

/**
 * Summing each tap's products straight from x and dy (`directFilterGradient`, both threads) takes filter
 * gradients of up to this many channel pairs (C x O), however many positions: against the window matrix
 * and our product, measured alternating on 2 threads, ResNet-50's 7x7 first layer (3 x 64, 241M multiply-
 * adds) 0.60x the time, MobileNet-v1's (3 x 32) 0.36x, VGG-A's (3 x 64, 347M) 0.67x, a 1x1 of 32 x 64
 * 0.63x, 3x3 8 x 16 at stride 1 0.18x, 32 x 64 0.92x; from 64 x 64 (1.1x) to 256 x 256 (1.8x) the product
 * wins: each block of 4 x 8 sums passes over every position.
 */
const DIRECT_MAX_CHANNEL_PAIRS = 2048;
/**
 * ... or up to this many multiply-adds (the tiny trunk's filter gradients: 5-10M, 0.2-0.7x the window
 * matrix's time on one thread)...
 */
const DIRECT_MAX_MULTIPLY_ADDS = 2 ** 25;
/**
 * ... and from this many output positions: each block of sums is loaded and stored once per tap and chunk,
 * which a few positions do not repay (a 10x10 filter over a 10x10 map, 2 positions: 1.3x slower).
 */
const DIRECT_MIN_POSITIONS = 64;

/**
 * dW[a, b, c, o] = sum_{n,i,j} x[n, s i + a - padTop, s j + b - padLeft, c] dy[n, i, j, o]: the window
 * matrix `[fh fw C, positions]` times dy `[positions, O]`, one XNNPACK product whose rows are dW's in
 * order. The window matrix is written tap by tap (`tapColumns`: for each filter position, the pixels it
 * reads, one shifted copy per channel row at stride 1), from x^T, or for strided filters from x^T split
 * into stride phases, which each tap reads at stride 1. Chunked over output positions so that
 * a window matrix stays within the budget; the chunks' products are summed. A 1x1 filter at stride 1
 * without padding is the product x^T dy. Replaces a convolution of x^T with dy as the filter, whose
 * 4-channel (batch) inner loop ran at a fraction of the GEMM speed. 3x3 stride-1 ones of enough channels
 * go by Winograd, those of few channels or multiply-adds tap by tap without the window matrix (the bounds
 * above).
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
  const [fh, fw, inChannels] = filterShape;
  const simd = scope.simd();
  const strideOne = g.strides[0] === 1 && g.strides[1] === 1 && dimRoundingMode === undefined;
  const tileSize =
    simd !== null && strideOne ? winogradTileSize(x, filterShape, dataFormat, g, 'filter gradient') : null;
  if (simd !== null && tileSize !== null) {
    return scope.finish(winogradFilterGradient(scope, simd.winograd[tileSize], x, dy, g, filterShape));
  }
  const positions = g.batchSize * g.outHeight * g.outWidth;
  const multiplyAdds = positions * fh * fw * inChannels * filterShape[3];
  const small =
    inChannels * filterShape[3] <= DIRECT_MAX_CHANNEL_PAIRS || multiplyAdds <= DIRECT_MAX_MULTIPLY_ADDS;
  const direct = small && positions >= DIRECT_MIN_POSITIONS && filterShape[3] % 8 === 0;
  const memory = wasmMemoryOf(scope.backend);
  const product = memory === null ? null : packedProduct(memory);
  if (product !== null && direct) {
    return scope.finish(directFilterGradient(scope, product, x, dy, g, filterShape));
  }
  const pixels = g.batchSize * g.inHeight * g.inWidth;
  const samePixels = g.inHeight === g.outHeight && g.inWidth === g.outWidth;
  if (fh === 1 && fw === 1 && samePixels && g.padTop === 0 && g.padLeft === 0) {
    const product = scope.run(
      'BatchMatMul',
      { a: scope.reshape(x, [1, pixels, inChannels]), b: scope.matrixRows(dy, 0, pixels) },
      { transposeA: true, transposeB: false },
    );
    return scope.finish(scope.reshape(product, filterShape));
  }
  const xT = scope.transpose(scope.reshape(x, [pixels, inChannels]), [1, 0]);
  // Strided taps read stride phases of x^T (when there are more taps than phases to split).
  const phases = fh * fw > g.strides[0] * g.strides[1] ? scope.allocate(xT.shape) : null;
  if (phases !== null) splitPhases(scope.floats(xT), g, scope.floats(phases), simd?.deinterleaveRows);
  const windowSize = fh * fw * inChannels;
  let sum: TensorInfo | undefined;
  for (const [first, count] of windowChunks(g, windowSize)) {
    const dyRows = scope.matrixRows(dy, first, count);
    const windows = scope.allocate([1, windowSize, count]);
    const [source, target] = [scope.floats(xT), scope.floats(windows)];
    const phaseValues = phases === null ? null : scope.floats(phases);
    for (let a = 0; a < fh; a++) {
      for (let b = 0; b < fw; b++) {
        const block = (a * fw + b) * inChannels * count;
        const taps = target.subarray(block, block + inChannels * count);
        const phase = phaseValues && phaseTap(g, inChannels, [a, b]);
        if (phaseValues === null || phase === null) tapColumns(source, g, [a, b], first, taps);
        else {
          const values = phaseValues.subarray(phase.offset, phase.offset + phase.length);
          tapColumns(values, phase.g, [0, 0], first, taps);
        }
      }
    }
    const partial = scope.run(
      'BatchMatMul',
      { a: windows, b: dyRows },
      { transposeA: false, transposeB: false },
    );
    sum = sum === undefined ? partial : scope.run('Add', { a: sum, b: partial });
  }
  return scope.finish(scope.reshape(sum!, filterShape));
}

export const conv2DBackpropFilterConfig: KernelConfig = {
  kernelName: Conv2DBackpropFilter,
  backendName: 'wasm',
  kernelFunc: conv2DBackpropFilter as unknown as KernelFunc,
};
