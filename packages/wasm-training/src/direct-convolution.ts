import { Conv2D } from '@tensorflow/tfjs-core';
import { type ConvolutionForm, convGeometry, plainStrides, shape4 } from './conv-geometry.js';
import { keptPacking } from './matrix-product.js';
import { CONVOLUTION_GEOMETRY_BYTES } from './matrix-product-wasm.js';
import { epilogueCode, packedProduct } from './packed-product.js';
import { wasmMemoryOf } from './wasm-heap.js';

/** The most channel pairs (C x O) that the direct form takes (`directConvolution`). */
const MAX_CHANNEL_PAIRS = 2048;
/**
 * The narrowest output it takes. Rows of 4 outputs gain now that a border col's positions share groups
 * with the rows above and below: the tiny trunk's last layer (32 x 8 x 8 x 32 -> 4 x 4, stride 2) 0.59-0.76x
 * XNNPACK's time with fresh filters, in one process, alternating; at 2 wide, where rows alternate between
 * interior and border taps, 1.49x.
 */
const MIN_OUT_WIDTH = 4;

/**
 * Below this many multiply-adds a convolution with a known filter (inference) goes to the other forms
 * (XNNPACK keeps its packing): straight from x the tiny trunk's layers (at most 1M) took 1.1-1.6x their time.
 */
const MIN_KNOWN_FILTER_MULTIPLY_ADDS = 1 << 22;

/**
 * A windowed convolution of few channels (at most MAX_CHANNEL_PAIRS, outputs a multiple of 8, MIN_OUT_WIDTH+
 * wide) straight from x on our product module (`convolutionRows`: groups of 4 output positions with the same
 * taps inside the image, across rows and images, by blocks of 8 outputs, fused multiply-adds, rows shared by
 * both threads), the filter packed as the product packs B, a fused layer's bias and ReLU or ReLU6 (`epilogue`) applied
 * as it stores y. No window matrix is written and the padding costs nothing. Against what took them before,
 * alternating with fresh filters: ResNet-50's 7x7 stem 0.69x the window matrix's time, MobileNet-v1's stem
 * 0.83x XNNPACK's, the tiny trunk's layers 0.79-0.92x; with groups across rows (a border col's positions
 * together instead of one at a time), the tiny trunk's 32 x 16 x 16 x 16 -> 32 layer 0.83x the time of
 * groups within rows, 32 x 32 x 32 x 8 -> 16 0.95x. A known filter (a layer at
 * inference, its packing kept while it lives: the product's `keptPacking`, shared with the window form) from
 * MIN_KNOWN_FILTER_MULTIPLY_ADDS: ResNet-50's stem at 320 and 160 px 0.71-0.73x the window matrix's time,
 * MobileNet-v1's at 448 px 0.72x XNNPACK's (0.90x at 224), in one process, alternating. Null for any other
 * convolution.
 */
export const directConvolution: ConvolutionForm = (scope, x, filter, attrs, freshFilter, epilogue) => {
  const strides = plainStrides(attrs);
  const [fh, fw, channels, outChannels] = filter.shape;
  const memory = wasmMemoryOf(scope.backend);
  if (strides === null || memory === null || x.dtype !== 'float32' || fh * fw === 1) return null;
  if (outChannels % 8 !== 0 || channels * outChannels > MAX_CHANNEL_PAIRS) return null;
  const product = packedProduct(memory);
  if (product === null) return null;
  const g = convGeometry(Conv2D, shape4(x), shape4(filter), strides, 1, attrs.pad, undefined, false);
  if (g.outWidth < MIN_OUT_WIDTH) return null;
  const multiplyAdds = g.batchSize * g.outHeight * g.outWidth * fh * fw * channels * outChannels;
  if (!freshFilter && multiplyAdds < MIN_KNOWN_FILTER_MULTIPLY_ADDS) return null;
  const [strideH, strideW] = g.strides;
  const interiorStart = Math.min(g.outWidth, Math.ceil(g.padLeft / strideW));
  const lastInside = Math.floor((g.inWidth + g.padLeft - fw) / strideW);
  const interiorEnd = Math.max(interiorStart, Math.min(g.outWidth, lastInside + 1));
  const geometry = [
    g.outHeight,
    g.outWidth,
    fh,
    fw,
    channels,
    outChannels,
    g.inHeight,
    g.inWidth,
    strideH,
    strideW,
    g.padTop,
    g.padLeft,
    interiorStart,
    interiorEnd,
    epilogue === undefined ? 0 : scope.floats(epilogue.bias).byteOffset,
    epilogue === undefined ? 0 : epilogueCode(epilogue.activation),
  ];
  const table = scope.allocate([CONVOLUTION_GEOMETRY_BYTES / 4]);
  const y = scope.allocate([g.batchSize, g.outHeight, g.outWidth, outChannels]);
  const dims = { k: fh * fw * channels, n: outChannels };
  const weights = { byteOffset: scope.floats(filter).byteOffset, rowStride: outChannels, colStride: 1 };
  const packedAt = freshFilter
    ? scope.floats(scope.allocate([product.packedSize(dims.k, dims.n)])).byteOffset
    : keptPacking(scope, product, filter, weights, dims);
  if (freshFilter) product.pack(weights, packedAt, dims);
  // Addresses after the last allocation (which may grow the memory).
  const tableValues = scope.floats(table);
  new Int32Array(tableValues.buffer, tableValues.byteOffset, geometry.length).set(geometry);
  product.convolve(
    {
      geometry: tableValues.byteOffset,
      x: scope.floats(x).byteOffset,
      packed: packedAt,
      y: scope.floats(y).byteOffset,
    },
    g.batchSize * g.outHeight,
  );
  if (epilogue !== undefined) epilogue.applied = true;
  return y;
};
