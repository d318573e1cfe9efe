import { Conv2D, type Conv2DAttrs, type TensorInfo } from '@tensorflow/tfjs-core';
import {
  type ConvGeometry,
  type ConvolutionForm,
  convGeometry,
  dilatedGradientPadding,
  isPlainStrideOne,
  shape4,
} from './conv-geometry.js';
import { runProducts } from './matrix-product.js';
import { reversedTaps } from './reversed-taps.js';
import type { WinogradTileSize, WinogradTrainingTransforms, WinogradTransforms } from './simd-kernels.js';
import { transformedFilter } from './transformed-filters.js';
import { WasmKernelScope } from './wasm-kernel-scope.js';

/**
 * Where Winograd pays, measured layer by layer against XNNPACK's direct convolution with a fresh filter (2
 * threads, VGG-A's and ResNet-50's 3x3 layers). F(2x2, 3x3)'s 16 products have 16/36 of the multiply-adds
 * but 16/9 as many filter values for XNNPACK to pack, and two passes over the tiles: 0.54-0.9x the time
 * from 32 channels and 40 tiles of 2x2 (ResNet-50's 10x10 maps at batch 4: 100 tiles, 0.77-0.89x). The
 * filter gradient packs its 16 `[tiles, O]` right operands instead: 0.57-0.92x from 64 x 128 channels and
 * 64 tiles; 1.1x at 64 x 64 channels, 1.14x at 50 tiles. F(4x4, 3x3)'s 36 products have 1/4 of the
 * multiply-adds, on fewer rows, behind heavier transforms: 0.70-0.93x F(2x2)'s time from 144 tiles of 4x4
 * (1.03x at 98-100, 1.25x at 64); for the filter gradient 0.56-0.82x F(2x2)'s from 49 tiles (1.11x at 36),
 * and from 32 x 32 channels, where F(2x2) does not pay, 0.57-0.96x the direct form's (ResNet-50's 64 x 64
 * layers at 40x40 0.57x). A filter seen before (inference) keeps its transform, packed by XNNPACK once
 * (`winogradFilter`), against wasm's convolution with its own packing kept: F(2x2) 0.48-0.88x its time on
 * every layer measured (64-512 channels, 16-3136 tiles of 2x2). F(4x4) against F(2x2), both kept,
 * alternating in one process: 0.76-0.90x from 100 tiles of 4x4 (32-64 channels; 0.86x at 3136), 0.80-0.92x
 * from 16 tiles at 128-512 channels, 1.0-1.34x below.
 */
const MIN_CHANNELS = 32;
const MIN_TILES = 40;
const MIN_FILTER_GRADIENT_TILES = 64;
const MIN_FILTER_GRADIENT_CHANNELS = 64 * 128;
const MIN_LARGE_TILES = 128;
const MIN_LARGE_TILES_KNOWN_FILTER = 64;
const MIN_LARGE_TILES_KNOWN_WIDE_FILTER = 16;
const WIDE_FILTER_CHANNELS = 128;
const MIN_LARGE_FILTER_GRADIENT_TILES = 48;

/**
 * A 3x3 stride-1 convolution (VGG-A's all but the first, ResNet-50's bottleneck middles, the input gradients
 * of both) by Winograd F(m x m, 3x3), m 2 or 4: each m x m output tile from an (m + 2) x (m + 2) input patch,
 * as (m + 2)^2 XNNPACK products `[tiles, C] x [C, O]` between transforms in our SIMD module. Null where
 * Winograd does not take it (see `winogradTileSize`).
 */
export const winogradConvolution: ConvolutionForm = (scope, x, filter, attrs, freshFilter) => {
  const plan = winogradPlan(scope, x, filter, attrs, freshFilter ? 'fresh filter' : 'known filter');
  if (plan === null) return null;
  const { transforms, g } = plan;
  const filters = winogradFilter(scope, transforms, filter, freshFilter);
  return winogradConvolve(scope, transforms, x, filters, g);
};

/**
 * The transformed filter U = G g G^T (n^2 matrices `[1, C', O]`) of `filter`, or of the r x r filter
 * `[r, r, C', O]` that `toTransform` makes of it (a large filter's parts stacked): for a fresh filter (a
 * training step's) in the scope, freed with it; for a filter seen before (a layer at inference) kept while
 * `filter` lives (`transformedFilter`), so that it is transformed, and packed by XNNPACK, once.
 */
export function winogradFilter(
  scope: WasmKernelScope,
  transforms: WinogradTransforms,
  filter: TensorInfo,
  freshFilter: boolean,
  toTransform: () => TensorInfo = () => filter,
): TensorInfo[] {
  const transform = (allocate: (shape: number[]) => TensorInfo) => {
    const source = toTransform();
    const [, , inChannels, outChannels] = source.shape;
    const matrices = Array.from({ length: matrixCount(transforms) }, () =>
      allocate([1, inChannels, outChannels]),
    );
    inWasmMemory(
      transforms.filter(
        scope.floats(source),
        matrices.map((t) => scope.floats(t)),
      ),
    );
    return matrices;
  };
  if (freshFilter) return transform((shape) => scope.allocate(shape));
  return transformedFilter(scope.backend, filter, transforms, transform);
}

/** The geometry and the transforms when Winograd takes the convolution, else null. */
function winogradPlan(
  scope: WasmKernelScope,
  x: TensorInfo,
  filter: TensorInfo,
  attrs: Conv2DAttrs,
  use: WinogradUse,
): { transforms: WinogradTrainingTransforms; g: ConvGeometry } | null {
  const simd = scope.simd();
  if (simd === null || !isPlainStrideOne(attrs)) return null;
  const g = convGeometry(Conv2D, shape4(x), shape4(filter), 1, 1, attrs.pad, undefined, false);
  const tileSize = winogradTileSize(x, shape4(filter), attrs.dataFormat, g, use);
  return tileSize === null ? null : { transforms: simd.winograd[tileSize], g };
}

/** What a Winograd product computes: a convolution with a filter new or seen before, or a filter gradient. */
export type WinogradUse = 'fresh filter' | 'known filter' | 'filter gradient';

/**
 * The tile size m of the Winograd F(m x m, 3x3) that takes a stride-1 convolution of `x` with a filter of
 * `filterShape` (`g`: its geometry) for `use`; null where none does.
 */
export function winogradTileSize(
  x: TensorInfo,
  filterShape: number[],
  dataFormat: string | undefined,
  g: ConvGeometry,
  use: WinogradUse,
): WinogradTileSize | null {
  const [fh, fw, inChannels, outChannels] = filterShape;
  const tiles = (m: number) => g.batchSize * Math.ceil(g.outHeight / m) * Math.ceil(g.outWidth / m);
  const takes =
    x.dtype === 'float32' &&
    fh === 3 &&
    fw === 3 &&
    inChannels % 4 === 0 &&
    outChannels % 4 === 0 &&
    inChannels >= MIN_CHANNELS &&
    outChannels >= MIN_CHANNELS &&
    (dataFormat === undefined || dataFormat === 'NHWC');
  if (!takes) return null;
  if (use === 'filter gradient') {
    if (tiles(4) >= MIN_LARGE_FILTER_GRADIENT_TILES) return 4;
    const smallTakes =
      tiles(2) >= MIN_FILTER_GRADIENT_TILES && inChannels * outChannels >= MIN_FILTER_GRADIENT_CHANNELS;
    return smallTakes ? 2 : null;
  }
  if (use === 'known filter') {
    const wide = Math.min(inChannels, outChannels) >= WIDE_FILTER_CHANNELS;
    return tiles(4) >= (wide ? MIN_LARGE_TILES_KNOWN_WIDE_FILTER : MIN_LARGE_TILES_KNOWN_FILTER) ? 4 : 2;
  }
  if (tiles(2) < MIN_TILES) return null;
  return tiles(4) >= MIN_LARGE_TILES ? 4 : 2;
}

/** n^2, the number of transformed matrices (and of products) of F(m x m, r x r), n = m + r - 1. */
export const matrixCount = ({ tileSize, filterSize }: WinogradTransforms): number =>
  (tileSize + filterSize - 1) ** 2;

/** x padded or cropped so that every n x n input patch of the m x m output tiles lies inside. */
function winogradPatches(
  scope: WasmKernelScope,
  transforms: WinogradTransforms,
  x: TensorInfo,
  g: ConvGeometry,
) {
  const { tileSize: m, filterSize: r } = transforms;
  const tilesH = Math.ceil(g.outHeight / m);
  const tilesW = Math.ceil(g.outWidth / m);
  const patches = scope.padOrCrop(x, [
    [0, 0],
    [g.padTop, m * tilesH + r - 1 - g.inHeight - g.padTop],
    [g.padLeft, m * tilesW + r - 1 - g.inWidth - g.padLeft],
    [0, 0],
  ]);
  return { patches, tilesH, tilesW };
}

/** Some of the tiles: `images` whole images from `image`, or tile rows `firstRow ..` of one image. */
interface TileChunk {
  image: number;
  images: number;
  firstRow: number;
  rows: number;
}

/**
 * Transformed tiles and products are (m + r - 1)^2 times the tiles' values each: a 1280 x 960 map of 64
 * channels (VGG-A at the pyramid's largest scale) makes 177M values of F(4x4) tiles, and as many products.
 * A convolution takes its tiles in chunks of at most this many values of either.
 */
const CHUNK_VALUES = 2 ** 24;

export function tileChunks(batch: number, tilesH: number, tilesW: number, maxTiles: number): TileChunk[] {
  const chunks: TileChunk[] = [];
  const perImage = tilesH * tilesW;
  if (perImage <= maxTiles) {
    const images = Math.floor(maxTiles / perImage);
    for (let image = 0; image < batch; image += images) {
      chunks.push({ image, images: Math.min(images, batch - image), firstRow: 0, rows: tilesH });
    }
    return chunks;
  }
  const rows = Math.max(1, Math.floor(maxTiles / tilesW));
  for (let image = 0; image < batch; image++) {
    for (let firstRow = 0; firstRow < tilesH; firstRow += rows) {
      chunks.push({ image, images: 1, firstRow, rows: Math.min(rows, tilesH - firstRow) });
    }
  }
  return chunks;
}

/**
 * The n^2 transformed input matrices `[1, tiles, C]` (B^T d B of every input patch) of a chunk's tiles of
 * `patches` (`[N, m tilesH + r - 1, m tilesW + r - 1, C]`), allocated in `scope`.
 */
function inputTiles(
  scope: WasmKernelScope,
  transforms: WinogradTransforms,
  patches: TensorInfo,
  tilesW: number,
  chunk: TileChunk,
) {
  const m = transforms.tileSize;
  const [, height, width, channels] = patches.shape;
  const inputs = Array.from({ length: matrixCount(transforms) }, () =>
    scope.allocate([1, chunk.images * chunk.rows * tilesW, channels]),
  );
  const first = (chunk.image * height + m * chunk.firstRow) * width * channels;
  const dims = { batch: chunk.images, tilesH: chunk.rows, tilesW, channels };
  inWasmMemory(
    transforms.inputTiles(
      scope.floats(patches).subarray(first),
      inputs.map((t) => scope.floats(t)),
      dims,
    ),
  );
  return { inputs, dims };
}

/**
 * A stride-1 convolution of x with the transformed filter (n^2 matrices `[1, C, O]`) by Winograd, chunk by
 * chunk of tiles: the input tiles' transforms, the n^2 products `[tiles, C] x [C, O]`, then A^T M A per
 * tile into the output `[N, outH, outW, O]`. `chunkValues` bounds a chunk's tiles and products (tests
 * make it small).
 */
export function winogradConvolve(
  scope: WasmKernelScope,
  transforms: WinogradTransforms,
  x: TensorInfo,
  filters: TensorInfo[],
  g: ConvGeometry,
  { chunkValues = CHUNK_VALUES, filtersTransposed = false } = {},
): TensorInfo {
  const { patches, tilesH, tilesW } = winogradPatches(scope, transforms, x, g);
  const [rows, cols] = filters[0].shape.slice(1);
  const [inChannels, outChannels] = filtersTransposed ? [cols, rows] : [rows, cols];
  const { outHeight, outWidth } = g;
  const y = scope.allocate([g.batchSize, outHeight, outWidth, outChannels]);
  const maxTiles = Math.floor(chunkValues / (filters.length * Math.max(inChannels, outChannels)));
  for (const chunk of tileChunks(g.batchSize, tilesH, tilesW, maxTiles)) {
    const part = new WasmKernelScope(scope.backend);
    const { inputs, dims } = inputTiles(part, transforms, patches, tilesW, chunk);
    // As our BatchMatMul computes them (it packs whichever side costs less: the tiles, where there are
    // fewer tiles than filter values, 0.84-0.86x on VGG-A's 512-channel layers), or as one batch of our
    // packed product.
    const products = runProducts(
      part,
      inputs.map((a, k) => ({ a, b: filters[k] })),
      false,
      filtersTransposed,
    );
    const first = (chunk.image * outHeight + transforms.tileSize * chunk.firstRow) * outWidth * outChannels;
    const chunkHeight = outHeight - transforms.tileSize * chunk.firstRow;
    inWasmMemory(
      transforms.outputTiles(
        products.map((t) => part.floats(t)),
        part.floats(y).subarray(first),
        { ...dims, channels: outChannels, outHeight: chunkHeight, outWidth },
      ),
    );
    part.finish([]);
  }
  return y;
}

/**
 * dx of a stride-1 3x3 convolution (`g`: its geometry) by Winograd, where the tiles of dx take it: the
 * correlation of dy, padded as `dilatedGradientPadding` says, with the filter rotated by 180 degrees and
 * its in/out channels swapped. The rotated filter's transform is that of the filter with its taps reversed,
 * read transposed by the products: no transposed copy of the filter. Null where Winograd does not take it.
 */
export function winogradInputGradient(
  scope: WasmKernelScope,
  dy: TensorInfo,
  filter: TensorInfo,
  g: ConvGeometry,
): TensorInfo | null {
  const simd = scope.simd();
  const [fh, fw, inChannels, outChannels] = filter.shape;
  if (simd === null || g.strides[0] !== 1 || g.strides[1] !== 1) return null;
  const [[padTop], [padLeft]] = dilatedGradientPadding(g);
  const gradient: ConvGeometry = {
    ...g,
    inHeight: g.outHeight,
    inWidth: g.outWidth,
    outHeight: g.inHeight,
    outWidth: g.inWidth,
    padTop,
    padLeft,
  };
  const tileSize = winogradTileSize(dy, [fh, fw, outChannels, inChannels], 'NHWC', gradient, 'fresh filter');
  if (tileSize === null) return null;
  const transforms = simd.winograd[tileSize];
  const filters = winogradFilter(scope, transforms, reversedTaps(scope, filter), true);
  return winogradConvolve(scope, transforms, dy, filters, gradient, { filtersTransposed: true });
}

/**
 * The filter gradient of a stride-1 3x3 convolution by Winograd: with V_k the transformed input patches and
 * dM_k the transformed dy tiles (A dy A^T), dU_k = V_k^T dM_k ((m + 2)^2 products `[C, T] x [T, O]`) and
 * dW = G^T dU G.
 */
export function winogradFilterGradient(
  scope: WasmKernelScope,
  transforms: WinogradTrainingTransforms,
  x: TensorInfo,
  dy: TensorInfo,
  g: ConvGeometry,
  filterShape: number[],
): TensorInfo {
  const outChannels = filterShape[3];
  const { patches, tilesH, tilesW } = winogradPatches(scope, transforms, x, g);
  const everyTile = { image: 0, images: g.batchSize, firstRow: 0, rows: tilesH };
  const { inputs, dims } = inputTiles(scope, transforms, patches, tilesW, everyTile);
  const tiles = inputs[0].shape[1];
  const gradients = inputs.map(() => scope.allocate([1, tiles, outChannels]));
  const { outHeight, outWidth } = g;
  const gradientDims = { ...dims, channels: outChannels, outHeight, outWidth };
  inWasmMemory(
    transforms.gradientTiles(
      scope.floats(dy),
      gradients.map((t) => scope.floats(t)),
      gradientDims,
    ),
  );
  const products = runProducts(
    scope,
    inputs.map((a, k) => ({ a, b: gradients[k] })),
    true,
  );
  const dW = scope.allocate(filterShape);
  inWasmMemory(
    transforms.filterGradient(
      scope.floats(dW),
      products.map((t) => scope.floats(t)),
    ),
  );
  return dW;
}

/** The SIMD module declines only views of another memory, which a kernel's fresh views never are. */
export function inWasmMemory(done: boolean): void {
  if (!done) throw new Error('@deepmask/wasm-training: Winograd transform on views outside wasm memory');
}
