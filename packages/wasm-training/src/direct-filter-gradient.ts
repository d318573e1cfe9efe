import { type TensorInfo, util } from '@tensorflow/tfjs-core';
import { type ConvGeometry, insideOutputs } from './conv-geometry.js';
import { TAP_RECORD_BYTES } from './matrix-product-wasm.js';
import type { PackedProduct } from './packed-product.js';
import type { WasmKernelScope } from './wasm-kernel-scope.js';

/**
 * dy values per chunk of output positions: its rows (and x's) stay in the caches while every tap reads them
 * (16 KB: with the single-threaded loop before, the tiny trunk's 16 x 32 and 32 x 32 filter gradients took
 * 0.6-0.7x their time in chunks of 64 KB, two runs each).
 */
const CHUNK_VALUES = 4096;

/** Output positions that the taps take together: `images` whole images from `image`, or rows of one image. */
interface PositionChunk {
  image: number;
  images: number;
  rows: [number, number];
}

function positionChunks(g: ConvGeometry, outChannels: number): PositionChunk[] {
  const rowsPerChunk = Math.max(1, Math.floor(CHUNK_VALUES / (g.outWidth * outChannels)));
  const chunks: PositionChunk[] = [];
  if (rowsPerChunk >= g.outHeight) {
    const images = Math.floor(rowsPerChunk / g.outHeight);
    for (let image = 0; image < g.batchSize; image += images) {
      chunks.push({ image, images: Math.min(images, g.batchSize - image), rows: [0, g.outHeight] });
    }
    return chunks;
  }
  for (let image = 0; image < g.batchSize; image++) {
    for (let row = 0; row < g.outHeight; row += rowsPerChunk) {
      chunks.push({ image, images: 1, rows: [row, Math.min(row + rowsPerChunk, g.outHeight)] });
    }
  }
  return chunks;
}

/**
 * Shares of the tap records that the threads claim, each summed into its own copy of dW: enough for two
 * threads that drift apart by up to 2x to end together.
 */
const SHARES = 8;

/**
 * dW `[fh, fw, C, O]` tap by tap straight from x and dy (`PackedProduct.filterGradient`, with fused
 * multiply-adds where relaxed SIMD runs, on both threads where the helper runs): each tap sums over the
 * output positions whose pixel it reads inside the image, so the padding costs nothing and no window
 * matrix is written. Positions go in chunks that every tap reads while they are in the caches: a record
 * per chunk and tap. O must be a multiple of 8.
 */
export function directFilterGradient(
  scope: WasmKernelScope,
  product: PackedProduct,
  x: TensorInfo,
  dy: TensorInfo,
  g: ConvGeometry,
  filterShape: [number, number, number, number],
): TensorInfo {
  const [, , channels, outChannels] = filterShape;
  const size = util.sizeFromShape(filterShape);
  const records = tapRecords(g, filterShape);
  const count = records.length / RECORD_FIELDS;
  const copies = Math.max(1, Math.min(SHARES, count));
  const table = scope.allocate([records.length]);
  const scratch = scope.zeros([copies, size]);
  const out = scope.allocate(filterShape);
  // Addresses after the last allocation (which may grow the memory).
  const tableValues = scope.floats(table);
  new Int32Array(tableValues.buffer, tableValues.byteOffset, records.length).set(records);
  const copyValues = scope.floats(scratch);
  product.filterGradient(
    {
      records: tableValues.byteOffset,
      count,
      x: scope.floats(x).byteOffset,
      dy: scope.floats(dy).byteOffset,
    },
    { channels, outChannels, size, copies },
    copyValues.byteOffset,
    scope.floats(out).byteOffset,
  );
  return out;
}

/** Fields of a tap record (TAP_RECORD_BYTES / 4), as the product module reads them. */
const RECORD_FIELDS = TAP_RECORD_BYTES / 4;

/** Tap records by geometry (the same every training step), the most recent MAX_KEPT_GEOMETRIES. */
const recordsByGeometry = new Map<string, Int32Array>();
const MAX_KEPT_GEOMETRIES = 64;

/**
 * One record per chunk of positions and tap that reads a pixel inside the image: the byte offsets of its
 * first value in x and dy and of its block of dW, then the positions' counts and byte strides.
 */
function tapRecords(g: ConvGeometry, filterShape: number[]): Int32Array {
  const key = JSON.stringify([g, filterShape]);
  let records = recordsByGeometry.get(key);
  if (records === undefined) {
    records = newTapRecords(g, filterShape);
    if (recordsByGeometry.size >= MAX_KEPT_GEOMETRIES) {
      recordsByGeometry.delete(recordsByGeometry.keys().next().value as string);
    }
    recordsByGeometry.set(key, records);
  }
  return records;
}

function newTapRecords(g: ConvGeometry, [fh, fw, channels, outChannels]: number[]): Int32Array {
  const records: number[] = [];
  const [strideH, strideW] = g.strides;
  const [xImage, dyImage] = [g.inHeight * g.inWidth * channels, g.outHeight * g.outWidth * outChannels];
  for (const chunk of positionChunks(g, outChannels)) {
    for (let a = 0; a < fh; a++) {
      const [iLo, iHi] = insideOutputs(g.outHeight, g.inHeight, strideH, a - g.padTop);
      const [first, last] = [Math.max(iLo, chunk.rows[0]), Math.min(iHi, chunk.rows[1])];
      if (first >= last) continue;
      for (let b = 0; b < fw; b++) {
        const [jLo, jHi] = insideOutputs(g.outWidth, g.inWidth, strideW, b - g.padLeft);
        if (jLo >= jHi) continue;
        const pixel = (first * strideH + a - g.padTop) * g.inWidth + jLo * strideW + b - g.padLeft;
        records.push(
          4 * (chunk.image * xImage + pixel * channels),
          4 * (chunk.image * dyImage + (first * g.outWidth + jLo) * outChannels),
          4 * (a * fw + b) * channels * outChannels,
          chunk.images,
          last - first,
          jHi - jLo,
          4 * xImage,
          4 * strideH * g.inWidth * channels,
          4 * strideW * channels,
          4 * dyImage,
          4 * g.outWidth * outChannels,
        );
      }
    }
  }
  return Int32Array.from(records);
}
