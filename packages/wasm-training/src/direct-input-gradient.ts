import type { TensorInfo } from '@tensorflow/tfjs-core';
import { type ConvGeometry, insideOutputs } from './conv-geometry.js';
import { INPUT_TAP_RECORD_BYTES } from './matrix-product-wasm.js';
import type { PackedProduct } from './packed-product.js';
import type { WasmKernelScope } from './wasm-kernel-scope.js';

/**
 * dx `[N, H, W, C]` of a strided convolution tap by tap straight from dy (`PackedProduct.inputGradient`,
 * with fused multiply-adds where relaxed SIMD runs, on both threads where the helper runs): for each
 * filter tap, each row of dy positions whose pixel is inside the image times the tap's `W[a, b]^T`, added
 * onto dx's pixels. No window matrix is written and no col2im adds it back.
 */
export function directInputGradient(
  scope: WasmKernelScope,
  product: PackedProduct,
  dy: TensorInfo,
  filter: TensorInfo,
  g: ConvGeometry,
): TensorInfo {
  const [fh, fw, channels, outChannels] = filter.shape;
  const tapSize = product.packedSize(outChannels, channels);
  const records = inputTapRecords(g, filter.shape, tapSize);
  const table = scope.allocate([records.length]);
  const packed = scope.allocate([fh * fw * tapSize]);
  const dx = scope.zeros([g.batchSize, g.inHeight, g.inWidth, channels]);
  // Addresses after the last allocation (which may grow the memory).
  const tableValues = scope.floats(table);
  new Int32Array(tableValues.buffer, tableValues.byteOffset, records.length).set(records);
  const [filterAt, packedAt] = [scope.floats(filter).byteOffset, scope.floats(packed).byteOffset];
  for (let tap = 0; tap < fh * fw; tap++) {
    // W[a, b]^T: element (o, c) at W[a, b, c, o].
    const view = {
      byteOffset: filterAt + 4 * tap * channels * outChannels,
      rowStride: 1,
      colStride: outChannels,
    };
    product.pack(view, packedAt + 4 * tap * tapSize, { k: outChannels, n: channels });
  }
  product.inputGradient(
    {
      records: tableValues.byteOffset,
      count: records.length / RECORD_FIELDS,
      dy: scope.floats(dy).byteOffset,
      dx: scope.floats(dx).byteOffset,
      packed: packedAt,
    },
    { images: g.batchSize, channels, outChannels },
  );
  return dx;
}

/** Fields of a tap record (INPUT_TAP_RECORD_BYTES / 4), as the product module reads them. */
const RECORD_FIELDS = INPUT_TAP_RECORD_BYTES / 4;

/**
 * One record per tap that reads a pixel inside the image: the byte offsets of image 0's first position in
 * dy, its pixel in dx and the tap's packed filter, the positions' rows and cols, then byte strides.
 */
function inputTapRecords(g: ConvGeometry, [fh, fw, channels, outChannels]: number[], tapSize: number) {
  const records: number[] = [];
  const [strideH, strideW] = g.strides;
  for (let a = 0; a < fh; a++) {
    const [iLo, iHi] = insideOutputs(g.outHeight, g.inHeight, strideH, a - g.padTop);
    if (iLo >= iHi) continue;
    for (let b = 0; b < fw; b++) {
      const [jLo, jHi] = insideOutputs(g.outWidth, g.inWidth, strideW, b - g.padLeft);
      if (jLo >= jHi) continue;
      const pixel = (iLo * strideH + a - g.padTop) * g.inWidth + jLo * strideW + b - g.padLeft;
      records.push(
        4 * (iLo * g.outWidth + jLo) * outChannels,
        4 * pixel * channels,
        4 * (a * fw + b) * tapSize,
        iHi - iLo,
        jHi - jLo,
        4 * g.outWidth * outChannels,
        4 * strideH * g.inWidth * channels,
        4 * strideW * channels,
        4 * g.outHeight * g.outWidth * outChannels,
        4 * g.inHeight * g.inWidth * channels,
      );
    }
  }
  return Int32Array.from(records);
}
