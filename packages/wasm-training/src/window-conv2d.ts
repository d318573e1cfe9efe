import { Conv2D } from '@tensorflow/tfjs-core';
import { type ConvolutionForm, convGeometry, plainStrides, shape4 } from './conv-geometry.js';
import { windowChunks } from './im2col.js';
import { multiplyWithBias, takesPackedProduct } from './matrix-product.js';

/**
 * From this many output channels: against XNNPACK's direct convolution (2 threads, alternating), ResNet-50's
 * 3x3 stride-2 layers (128 and 256 channels) 0.55-0.60x the time with a fresh filter and 0.69-0.71x with
 * one seen before, its 7x7 stem (3 -> 64) 0.61x and 0.78x; with 32 outputs and fewer (MobileNet-v1's
 * stem, the tiny trunk's layers) 0.91-2.9x, as the window matrix costs as much as the product.
 */
const MIN_OUT_CHANNELS = 64;

/**
 * A strided convolution of 64+ outputs that our other forms leave (ResNet-50's 3x3 stride-2 layers and its
 * 7x7 stem) as its window matrix times the filter: im2col in our SIMD module (`[positions,
 * fh fw C]`, zeros for the padding), then `[positions, fh fw C] x [fh fw C, O]` through our BatchMatMul,
 * where our packed product takes it (a filter seen before keeps its packing there). Chunked over output
 * positions so that a window matrix stays within the budget; a fused convolution's bias and ReLU or ReLU6 (`epilogue`)
 * go into the product of a single chunk. Null for any other convolution: wasm's own
 * (XNNPACK's direct convolution) keeps it.
 */
export const windowConvolution: ConvolutionForm = (scope, x, filter, attrs, _freshFilter, epilogue) => {
  const simd = scope.simd();
  const strides = plainStrides(attrs);
  const [fh, fw, inChannels, outChannels] = filter.shape;
  if (simd === null || strides === null || x.dtype !== 'float32' || fh * fw === 1) return null;
  if (outChannels < MIN_OUT_CHANNELS) return null;
  if (strides[0] === 1 && strides[1] === 1) return null;
  const g = convGeometry(Conv2D, shape4(x), shape4(filter), strides, 1, attrs.pad, undefined, false);
  const positions = g.batchSize * g.outHeight * g.outWidth;
  const windowSize = fh * fw * inChannels;
  if (!takesPackedProduct(scope.backend, positions)) return null;
  const weights = scope.reshape(filter, [1, windowSize, outChannels]);
  const chunks = windowChunks(g, windowSize);
  const y = chunks.length > 1 ? scope.allocate([positions, outChannels]) : null;
  for (const [first, count] of chunks) {
    const windows = scope.allocate([1, count, windowSize]);
    if (!simd.im2col(scope.floats(x), g, inChannels, first, scope.floats(windows))) {
      throw new Error('@deepmask/wasm-training: im2col on views outside wasm memory');
    }
    // Chunks of fewer rows may go elsewhere: a fused convolution's epilogue only for a single chunk.
    const product = multiplyWithBias(scope, windows, weights, y === null ? epilogue : undefined);
    if (y === null) return scope.reshape(product, [g.batchSize, g.outHeight, g.outWidth, outChannels]);
    scope.floats(y).set(scope.floats(product), first * outChannels);
  }
  return scope.reshape(y!, [g.batchSize, g.outHeight, g.outWidth, outChannels]);
};
