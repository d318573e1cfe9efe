import type { TensorInfo } from '@tensorflow/tfjs-core';
import { type ConvGeometry, insideOutputs } from './conv-geometry.js';
import type { TapFilterGradient } from './simd-kernels.js';
import type { WasmKernelScope } from './wasm-kernel-scope.js';

/** dy values per chunk of output positions: its rows (and x's) stay in the caches while every tap reads them. */
const CHUNK_VALUES = 16384;

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
 * dW `[fh, fw, C, O]` tap by tap straight from x and dy (`tapFilterGradient`, our SIMD module): each tap
 * sums over the output positions whose pixel it reads inside the image, so the padding costs nothing and
 * no window matrix is written. Positions go in chunks that every tap reads while they are in the caches.
 * In one thread; for filter gradients too small for wasm's two-thread product to repay the window matrix
 * (see `conv2d-backprop-filter.ts`). O must be a multiple of 8.
 */
export function directFilterGradient(
  scope: WasmKernelScope,
  kernel: TapFilterGradient,
  x: TensorInfo,
  dy: TensorInfo,
  g: ConvGeometry,
  [fh, fw, channels, outChannels]: [number, number, number, number],
): TensorInfo {
  const out = scope.allocate([fh, fw, channels, outChannels]);
  const [xValues, dyValues, outValues] = [scope.floats(x), scope.floats(dy), scope.floats(out)];
  outValues.fill(0);
  const [strideH, strideW] = g.strides;
  const [xImage, dyImage] = [g.inHeight * g.inWidth * channels, g.outHeight * g.outWidth * outChannels];
  const dims = { channels, outChannels, outFirst: 0 };
  for (const chunk of positionChunks(g, outChannels)) {
    for (let a = 0; a < fh; a++) {
      const [iLo, iHi] = insideOutputs(g.outHeight, g.inHeight, strideH, a - g.padTop);
      const [first, last] = [Math.max(iLo, chunk.rows[0]), Math.min(iHi, chunk.rows[1])];
      if (first >= last) continue;
      for (let b = 0; b < fw; b++) {
        const [jLo, jHi] = insideOutputs(g.outWidth, g.inWidth, strideW, b - g.padLeft);
        if (jLo >= jHi) continue;
        const pixel = (first * strideH + a - g.padTop) * g.inWidth + jLo * strideW + b - g.padLeft;
        const tap = {
          images: chunk.images,
          rows: last - first,
          cols: jHi - jLo,
          first: chunk.image * xImage + pixel * channels,
          image: xImage,
          row: strideH * g.inWidth * channels,
          col: strideW * channels,
          dyFirst: chunk.image * dyImage + (first * g.outWidth + jLo) * outChannels,
          dyImage,
          dyRow: g.outWidth * outChannels,
        };
        dims.outFirst = (a * fw + b) * channels * outChannels;
        if (!kernel(xValues, dyValues, outValues, tap, dims)) {
          throw new Error('@deepmask/wasm-training: the tap filter gradient ran on views of another memory');
        }
      }
    }
  }
  return out;
}
