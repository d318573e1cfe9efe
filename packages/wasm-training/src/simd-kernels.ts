import type { ConvGeometry } from './conv-geometry.js';
import {
  evenShares,
  type PackedProduct,
  type ProductCall,
  packedProduct,
  productHelperOf,
  simdModule,
} from './packed-product.js';
import { winogradExportPrefix } from './shared-simd-exports.js';
import { wasmMemoryOf } from './wasm-heap.js';

/**
 * Transposes the 4x4 blocks of a float32 `[rows, cols]` matrix (`rows - rows % 4` by `cols - cols % 4`)
 * from `source` into `target`, both views of one wasm memory; false (nothing done) for other views.
 */
export type BlockTranspose = (
  source: Float32Array,
  target: Float32Array,
  rows: number,
  cols: number,
) => boolean;

/** A window sliding over x: sizes, strides and padding (a depthwise filter gradient's, a max pool's). */
export interface SlidingWindow {
  batch: number;
  /** x `[batch, height, width, channels]`. */
  height: number;
  width: number;
  channels: number;
  /** dy `[batch, outHeight, outWidth, channels]`. */
  outHeight: number;
  outWidth: number;
  filterHeight: number;
  filterWidth: number;
  strides: [number, number];
  /** The padding before x's first row and column: taps there (or past x's end) add nothing. */
  padding: [number, number];
}

/**
 * `out[a, b, c] = sum_{n, i, j} x[n, i sh + a - pt, j sw + b - pl, c] dy[n, i, j, c]` over the taps inside x
 * (`out`: `[filterHeight, filterWidth, channels]`; `[pt, pl]` the padding), all views of one wasm memory;
 * false (nothing done) for other views. Given `copies` (room for up to `batch` copies of `out`) and a
 * helper thread, the images in as many shares as copies fit, each summed into its copy by either thread,
 * then the copies added in order.
 */
export type DepthwiseFilterGradient = (
  x: Float32Array,
  dy: Float32Array,
  out: Float32Array,
  window: SlidingWindow,
  copies?: Float32Array,
) => boolean;

/** Hyperparameters of one SGD step: `d = g + weightDecay w; v' = momentum v + d; w' = w - learningRate v'`. */
export interface SgdMomentumAttrs {
  learningRate: number;
  momentum: number;
  weightDecay: number;
}

/**
 * `out[c]` = the sum of column c of `values` (`[rows, width]`, row-major), added in float64 and rounded
 * once, its float64 sums in `scratch` (`columnSumsScratch(rows, width)` floats in wasm memory). False
 * (nothing written) when a view is not in wasm memory.
 */
export type ColumnSums = (
  values: Float32Array,
  rows: number,
  width: number,
  out: Float32Array,
  scratch: Float32Array,
) => boolean;

/** `channelOp`'s operation: `values op pattern`, then a ReLU where `relu`. */
export interface ChannelOpKind {
  op: 'add' | 'multiply';
  relu: boolean;
}

/**
 * `out[i] = f(values[i] op pattern[i mod pattern.length])` (f a ReLU or none) for every i of `values`
 * (`out` as long): `pattern` (a multiple of 4 values) is a per-channel operand tiled to whole vectors. All
 * views of one wasm memory; false (nothing done) for other views or another pattern length.
 */
export type ChannelOp = (
  values: Float32Array,
  pattern: Float32Array,
  out: Float32Array,
  kind: ChannelOpKind,
) => boolean;

/**
 * `out[i] = values[i] scales[i mod P] + offsets[i mod P]` (P = `scales.length` = `offsets.length`, a multiple
 * of 4: per-channel values tiled to whole vectors), a multiply then an add, each rounded. All views of one
 * wasm memory; false (nothing done) for other views or another pattern length.
 */
export type ChannelAffine = (
  values: Float32Array,
  scales: Float32Array,
  offsets: Float32Array,
  out: Float32Array,
) => boolean;

/**
 * The gradient through a ReLU (a ReLU6 with `cap` 6), `out = dy` where 0 < y <= cap, else 0 (y the ReLU's
 * output or input, a ReLU6's input; NaN where y is NaN), in one pass. Equal lengths, all views of one wasm
 * memory; false (nothing done) otherwise.
 */
export type ReluGradient = (dy: Float32Array, y: Float32Array, out: Float32Array, cap: number) => boolean;

/**
 * One SGD step over equal-length parameters `value`, `velocity`, `gradient` into `valueOut`,
 * `velocityOut`, in one pass (each float32 operation rounded as the separate tensor ops round it; 2^17+
 * values in runs on both threads where our product has a helper). All views of one wasm memory; false
 * (nothing done) for other views.
 */
export type SgdMomentum = (
  inputs: { value: Float32Array; velocity: Float32Array; gradient: Float32Array },
  outputs: { value: Float32Array; velocity: Float32Array },
  attrs: SgdMomentumAttrs,
) => boolean;

/**
 * Splits rows of `source` by column parity: row t (`rowStride` values after row t - 1, from index `from`)
 * goes, its even columns, to `target[even + t ceil(width / 2) ..]` and, its odd ones, to
 * `target[odd + t floor(width / 2) ..]`. Both views of one wasm memory; false (nothing done) for others.
 */
export type DeinterleaveRows = (
  source: Float32Array,
  target: Float32Array,
  rows: { from: number; rowStride: number; count: number; width: number; even: number; odd: number },
) => boolean;

/**
 * `dx += col2im(cols)` (`col2imAdd` of `im2col.ts`, the same arguments) for views of one wasm memory;
 * false (nothing done) for other views.
 */
export type Col2imAdd = (
  cols: Float32Array,
  g: ConvGeometry,
  channels: number,
  firstColumn: number,
  dx: Float32Array,
) => boolean;

/**
 * The window matrix of x (`[N, H, W, channels]`) for output positions firstColumn.. (`im2col` of the
 * convolution `g`: row m holds the window of position firstColumn + m, `[fh, fw, channels]`, zeros outside
 * the image), into `cols` (as many rows as it holds). Views of one wasm memory; false (nothing done) for
 * other views.
 */
export type Im2col = (
  x: Float32Array,
  g: ConvGeometry,
  channels: number,
  firstColumn: number,
  cols: Float32Array,
) => boolean;

/**
 * dx (zeroed by the caller) += the max-pool gradient: each window's dy added onto its first maximum of x
 * (channels a multiple of 4); where `tiled` (windows that cover the image once: stride = window, no
 * padding, nothing left over) dx is written whole instead, unzeroed and unread. False where it cannot run
 * (views of a buffer the memory has outgrown).
 */
export type MaxPoolGradient = (
  x: Float32Array,
  dy: Float32Array,
  dx: Float32Array,
  pool: SlidingWindow,
  tiled: boolean,
) => boolean;

/** The tiles of a Winograd F(m x m, r x r) convolution: `batch x tilesH x tilesW` tiles of `channels` values. */
export interface WinogradTiles {
  batch: number;
  tilesH: number;
  tilesW: number;
  channels: number;
}

/**
 * The n^2 transformed input matrices `[tiles, channels]` (`tiles`, in order; n = m + r - 1) of x `[batch,
 * m tilesH + r - 1, m tilesW + r - 1, channels]` (channels a multiple of 4). All views of one wasm memory;
 * false (nothing done) for other views.
 */
export type WinogradInputTiles = (x: Float32Array, tiles: Float32Array[], dims: WinogradTiles) => boolean;

/**
 * y `[batch, outHeight, outWidth, channels]` (channels a multiple of 4) from the n^2 products
 * `[tiles, channels]` of the transformed input and filter. All views of one wasm memory; false (nothing
 * done) for other views.
 */
export type WinogradOutputTiles = (
  products: Float32Array[],
  y: Float32Array,
  dims: WinogradTiles & { outHeight: number; outWidth: number },
) => boolean;

/**
 * The n^2 transformed output-gradient matrices `[tiles, channels]` (`tiles`, in order) of dy
 * `[batch, outHeight, outWidth, channels]` (channels a multiple of 4), for the Winograd filter gradient.
 * All views of one wasm memory; false (nothing done) for other views.
 */
export type WinogradGradientTiles = (
  dy: Float32Array,
  tiles: Float32Array[],
  dims: WinogradTiles & { outHeight: number; outWidth: number },
) => boolean;

/**
 * A filter transform between an r x r filter `[r, r, C, O]` (C O a multiple of 4) and its n^2 matrices
 * `[C, O]`. All views of one wasm memory; false (nothing done) for other views.
 */
export type WinogradFilterTransform = (filter: Float32Array, tiles: Float32Array[]) => boolean;

/**
 * Winograd F(m x m, r x r)'s forward transforms (scripts/winograd-wat.ts generates them and gives the
 * matrices).
 */
export interface WinogradTransforms {
  /** m: each tile is m x m outputs from an n x n input patch, n = m + r - 1. */
  tileSize: number;
  /** r */
  filterSize: number;
  inputTiles: WinogradInputTiles;
  outputTiles: WinogradOutputTiles;
  /** G g G^T into the n^2 matrices. */
  filter: WinogradFilterTransform;
}

/** A 3x3 variant's transforms, with those of the filter gradient. */
export interface WinogradTrainingTransforms extends WinogradTransforms {
  gradientTiles: WinogradGradientTiles;
  /** G^T dU G from the n^2 matrices into the filter. */
  filterGradient: WinogradFilterTransform;
}

/** m of the F(m x m, 3x3) variants. */
export type WinogradTileSize = 2 | 4;

/** r of the F(2x2, r x r) variants for larger filters (made of r x r parts). */
export type LargeFilterPart = 5 | 7;

/** The functions of `src/simd-kernels.wat` on one wasm memory. */
/**
 * Zeros onto all of `values` (a view of wasm memory; false, nothing done, for another). On the threaded
 * build's shared memory as fast as `fill(0)` up to 1 MB, 0.26x its time at 6.5 MB (ResNet-50's input
 * gradients of strided layers; best of 200 each).
 */
export type Zero = (values: Float32Array) => boolean;

export interface SimdKernels {
  /** 0.3-1.6 ns per value against 3-5 for a JS loop. */
  zero: Zero;
  transposeBlocks: BlockTranspose;
  depthwiseFilterGradient: DepthwiseFilterGradient;
  sgdMomentum: SgdMomentum;
  /**
   * 0.1-0.2 ns per value against ~1.5 for the JS loop (a bias gradient); rows in parts that both threads
   * claim from 2^20 values, each part's float64 sums added in order: VGG-A's bias gradients 27 -> 6.4 ms a
   * step (profiled), where the sums went down all rows strip by strip and a large dy came from memory four
   * times over.
   */
  columnSums: ColumnSums;
  /** Floats of scratch that `columnSums` takes for a `[rows, width]` matrix. */
  columnSumsScratch: (rows: number, width: number) => number;
  /** 0.1-0.2 ns per value; wasm's Add of a `[C]` bias to `[.., C]` took ~1-3 ns (an index per value). */
  channelOp: ChannelOp;
  channelAffine: ChannelAffine;
  reluGradient: ReluGradient;
  deinterleaveRows: DeinterleaveRows;
  /**
   * Output rows in parts that both threads claim where the helper runs (rows whose windows share no pixel,
   * else whole images, so that each value of dx is summed in the same order): VGG-A's pools' gradients
   * 33 ms a step where one call per window from JS took 60 (profiled), 19 with tiled windows written whole.
   */
  maxPoolGradient: MaxPoolGradient;
  /** The tiny model's training step 0.76x with it in an A/B against the JS loop (narrow windows). */
  col2imAdd: Col2imAdd;
  im2col: Im2col;
  /** F(2x2, 3x3) and F(4x4, 3x3). */
  winograd: Record<WinogradTileSize, WinogradTrainingTransforms>;
  /** F(2x2, 5x5) and F(2x2, 7x7), for inference (no filter-gradient transforms). */
  largeFilters: Record<LargeFilterPart, WinogradTransforms>;
}

const byMemory = new WeakMap<WebAssembly.Memory, SimdKernels | null>();

/**
 * `src/simd-kernels.wat` (128-bit SIMD) instantiated on the wasm backend's own memory, or null where that
 * cannot be done (no SIMD, another backend).
 */
export function simdKernels(backend: unknown): SimdKernels | null {
  const memory = wasmMemoryOf(backend);
  if (memory === null) return null;
  if (!byMemory.has(memory)) byMemory.set(memory, instantiate(memory));
  return byMemory.get(memory) ?? null;
}

type Exported = (...args: number[]) => void;

function instantiate(memory: WebAssembly.Memory): SimdKernels | null {
  const shared = typeof SharedArrayBuffer !== 'undefined' && memory.buffer instanceof SharedArrayBuffer;
  const module = simdModule(shared);
  if (module === null) return null;
  let exports: WebAssembly.Exports;
  try {
    exports = new WebAssembly.Instance(module, { env: { memory } }).exports;
  } catch {
    return null;
  }
  // After the memory grew, views taken before see an old buffer: those are declined.
  const inMemory = (...views: Float32Array[]) => views.every((view) => view.buffer === memory.buffer);
  const transposeBlocks = exports.transposeBlocks as Exported;
  const zeroFloats = exports.zeroFloats as Exported;
  const depthwiseFilterGradient = exports.depthwiseFilterGradient as Exported;
  const columnSumsRows = exports.columnSumsRows as Exported;
  /** Parts of a `[rows, width]` matrix's column sums: whole pairs of rows, one part below 2^20 values. */
  const columnSumParts = (rows: number, width: number) =>
    sharingProduct(memory) === null || rows * width < MIN_SHARED_SUM_VALUES
      ? 1
      : Math.max(1, Math.min(SHARED_PARTS, Math.floor(rows / 2)));
  const deinterleaveRows = exports.deinterleaveRows as Exported;
  const maxPoolGradientRows = exports.maxPoolGradientRows as Exported;
  const col2imAdd = exports.col2imAdd as Exported;
  const im2col = exports.im2col as Exported;
  return {
    zero: (values) => {
      if (!inMemory(values)) return false;
      zeroFloats(values.byteOffset, values.length);
      return true;
    },
    transposeBlocks: (source, target, rows, cols) => {
      if (!inMemory(source, target)) return false;
      transposeBlocks(source.byteOffset, target.byteOffset, rows, cols, rows - (rows % 4), cols - (cols % 4));
      return true;
    },
    depthwiseFilterGradient: (x, dy, out, w, copies) => {
      if (!inMemory(x, dy, out, ...(copies === undefined ? [] : [copies]))) return false;
      const shares = Math.min(w.batch, Math.floor((copies?.length ?? 0) / out.length));
      const product = sharingProduct(memory);
      // Bytes per image of x and dy; the function's arguments after the addresses and the batch.
      const [xImage, dyImage] = [w.height * w.width, w.outHeight * w.outWidth].map(
        (size) => 4 * size * w.channels,
      );
      const { height, width, channels, outHeight, outWidth, filterHeight, filterWidth } = w;
      const window = [
        height,
        width,
        channels,
        outHeight,
        outWidth,
        filterHeight,
        filterWidth,
        ...w.strides,
        ...w.padding,
      ];
      if (product === null || copies === undefined || shares < 2) {
        zeroFloats(out.byteOffset, out.length);
        depthwiseFilterGradient(x.byteOffset, dy.byteOffset, out.byteOffset, w.batch, ...window);
        return true;
      }
      zeroFloats(copies.byteOffset, shares * out.length);
      const calls = evenShares(w.batch, shares).map(([first, end], t) => {
        const at = [
          x.byteOffset + first * xImage,
          dy.byteOffset + first * dyImage,
          copies.byteOffset + 4 * t * out.length,
        ];
        return {
          name: 'depthwiseFilterGradient',
          args: [...at, end - first, ...window],
          perThread: [],
        };
      });
      product.runSummed(calls, copies.byteOffset, out.length, out.byteOffset);
      return true;
    },
    sgdMomentum: ({ value, velocity, gradient }, outputs, { learningRate, momentum, weightDecay }) => {
      const views = [value, velocity, gradient, outputs.value, outputs.velocity];
      if (!inMemory(...views)) return false;
      const addresses = offsets(views);
      const rateBits = new Int32Array(Float32Array.of(learningRate, momentum, weightDecay).buffer);
      runElementwise(memory, exports, 'sgdMomentum', value.length, 4, (start, count) => [
        ...addresses.map((at) => at + 4 * start),
        count,
        ...rateBits,
      ]);
      return true;
    },
    // Float64 sums at the first 8-byte boundary: each part's even rows' chain [width], then its odd rows'.
    columnSumsScratch: (rows, width) => 4 * width * columnSumParts(rows, width) + 1,
    columnSums: (values, rows, width, out, scratch) => {
      if (!inMemory(values, out, scratch)) return false;
      const parts = columnSumParts(rows, width);
      const chains = 2 * width;
      // (Arithmetic: offsets reach past 2^31, where bitwise operators turn them negative.)
      const sumsAt = 8 * Math.ceil(scratch.byteOffset / 8);
      zeroFloats(sumsAt, 2 * chains * parts);
      // Whole pairs of rows in each part (the last also takes an odd last row).
      const calls = evenShares(Math.floor(rows / 2), parts).map(([first, end], part) => ({
        name: 'columnSumsRows',
        args: [
          values.byteOffset + 8 * first * width,
          (part === parts - 1 ? rows : 2 * end) - 2 * first,
          width,
          sumsAt + 8 * chains * part,
        ],
        perThread: [],
      }));
      if (parts === 1) columnSumsRows(...calls[0].args);
      else (sharingProduct(memory) as PackedProduct).run(calls);
      const sums = new Float64Array(memory.buffer, sumsAt, chains * parts);
      for (let c = 0; c < width; c++) {
        let [even, odd] = [0, 0];
        for (let part = 0; part < parts; part++) {
          even += sums[part * chains + c];
          odd += sums[part * chains + width + c];
        }
        out[c] = even + odd;
      }
      return true;
    },
    channelOp: (values, pattern, out, { op, relu }) => {
      if (pattern.length % 4 !== 0 || out.length !== values.length || !inMemory(values, pattern, out)) {
        return false;
      }
      const [valuesAt, patternAt, outAt] = offsets([values, pattern, out]);
      // Runs start at whole periods, where the pattern starts again.
      runElementwise(memory, exports, 'channelOp', values.length, pattern.length, (start, count) => [
        valuesAt + 4 * start,
        patternAt,
        outAt + 4 * start,
        count,
        pattern.length,
        Number(op === 'multiply'),
        Number(relu),
      ]);
      return true;
    },
    channelAffine: (values, scales, offsets, out) => {
      const period = scales.length;
      if (period % 4 !== 0 || offsets.length !== period || out.length !== values.length) return false;
      if (!inMemory(values, scales, offsets, out)) return false;
      const [valuesAt, scalesAt, offsetsAt, outAt] = [values, scales, offsets, out].map(
        (view) => view.byteOffset,
      );
      // Runs start at whole periods, where the pattern starts again.
      runElementwise(memory, exports, 'channelAffine', values.length, period, (start, count) => [
        valuesAt + 4 * start,
        scalesAt,
        offsetsAt,
        outAt + 4 * start,
        count,
        period,
      ]);
      return true;
    },
    reluGradient: (dy, y, out, cap) => {
      if (y.length !== dy.length || out.length !== dy.length || !inMemory(dy, y, out)) return false;
      const [dyAt, yAt, outAt] = offsets([dy, y, out]);
      const [capBits] = new Int32Array(Float32Array.of(cap).buffer);
      runElementwise(memory, exports, 'reluGradient', dy.length, 4, (start, count) => [
        dyAt + 4 * start,
        yAt + 4 * start,
        outAt + 4 * start,
        count,
        capBits,
      ]);
      return true;
    },
    deinterleaveRows: (source, target, { from, rowStride, count, width, even, odd }) => {
      if (!inMemory(source, target)) return false;
      const [sourceAt, targetAt] = [source.byteOffset, target.byteOffset];
      deinterleaveRows(
        sourceAt + 4 * from,
        4 * rowStride,
        count,
        width,
        targetAt + 4 * even,
        targetAt + 4 * odd,
      );
      return true;
    },
    maxPoolGradient: (x, dy, dx, pool, tiled) => {
      if (!inMemory(x, dy, dx)) return false;
      const { channels, height, width, outHeight, outWidth, filterHeight, filterWidth } = pool;
      const args = (first: number, end: number) => [
        ...offsets([x, dy, dx]),
        ...[channels, height, width, outHeight, outWidth, filterHeight, filterWidth],
        ...[...pool.strides, ...pool.padding, Number(tiled), first, end],
      ];
      const rows = pool.batch * outHeight;
      const product = sharingProduct(memory);
      if (product === null || x.length < MIN_SHARED_VALUES) {
        maxPoolGradientRows(...args(0, rows));
        return true;
      }
      // Rows whose windows overlap (a stride below the window) stay together, image by image.
      const step = pool.strides[0] >= filterHeight ? 1 : outHeight;
      const parts = evenShares(rows / step, Math.min(SHARED_PARTS, rows / step));
      product.run(
        parts.map(([first, end]) => ({
          name: 'maxPoolGradientRows',
          args: args(first * step, end * step),
          perThread: [],
        })),
      );
      return true;
    },
    col2imAdd: (cols, g, channels, firstColumn, dx) => {
      if (!inMemory(cols, dx)) return false;
      col2imAdd(cols.byteOffset, dx.byteOffset, ...windowArguments(g, channels, firstColumn, cols));
      return true;
    },
    im2col: (x, g, channels, firstColumn, cols) => {
      if (!inMemory(x, cols)) return false;
      im2col(x.byteOffset, cols.byteOffset, ...windowArguments(g, channels, firstColumn, cols));
      return true;
    },
    winograd: {
      2: winogradTrainingTransforms(2, exports, inMemory, memory),
      4: winogradTrainingTransforms(4, exports, inMemory, memory),
    },
    largeFilters: {
      5: winogradTransforms(2, 5, exports, inMemory, memory).transforms,
      7: winogradTransforms(2, 7, exports, inMemory, memory).transforms,
    },
  };
}

type InMemory = (...views: Float32Array[]) => boolean;
const offsets = (views: Float32Array[]) => views.map((view) => view.byteOffset);

/** col2imAdd's and im2col's arguments after their two addresses: the geometry, then the rows of `cols`. */
function windowArguments(
  g: ConvGeometry,
  channels: number,
  firstColumn: number,
  cols: Float32Array,
): number[] {
  const geometry = [g.inHeight, g.inWidth, g.outHeight, g.outWidth, g.filterHeight, g.filterWidth];
  const columns = cols.length / (g.filterHeight * g.filterWidth * channels);
  return [channels, ...geometry, ...g.strides, g.padTop, g.padLeft, firstColumn, columns];
}

/**
 * A filter transform of F(m x m, r x r) between `[r, r, C, O]` and n^2 matrices, by the export `name`: in parts
 * of (c, o) pairs on both threads where it is large enough (`runElementwise`).
 */
function winogradFilterTransform(
  memory: WebAssembly.Memory,
  exports: WebAssembly.Exports,
  name: string,
  r: number,
  count: number,
  inMemory: InMemory,
): WinogradFilterTransform {
  return (filter, tiles) => {
    if (tiles.length !== count || !inMemory(filter, ...tiles)) return false;
    const [filterAt, ...tilesAt] = offsets([filter, ...tiles]);
    const size = filter.length / (r * r);
    runElementwise(
      memory,
      exports,
      name,
      size,
      4,
      (first, values) => [filterAt, size, first, values, ...tilesAt],
      size * count,
    );
    return true;
  };
}

/** Some of a transform's tiles: `images` whole images from `image`, or tile rows `firstRow ..` of one. */
interface TilePart {
  image: number;
  images: number;
  firstRow: number;
  rows: number;
}

/**
 * Parts of a shared function's work that the threads claim, so that one that starts late or runs slow
 * takes fewer.
 */
const SHARED_PARTS = 8;

/**
 * Below this many values written (a transform's tiles x channels x n^2) a function runs on this thread
 * alone: at 2^16 (the tiny trunk's 32-channel Winograd layer) the step measured 1.005-1.016x the time with
 * its transforms shared.
 */
const MIN_SHARED_VALUES = 1 << 17;

/**
 * Below this many values column sums run on this thread alone: alternating on 2 threads, `[32, 32, 32, 8]`
 * took 84 us in parts against 66 in one, `[32, 16, 16, 16]` 52 against 39; `[4, 56, 56, 256]` 0.85 ms
 * against 1.11, `[4, 224, 224, 64]` 3.6 against 6.2.
 */
const MIN_SHARED_SUM_VALUES = 1 << 20;

/** Our packed product where it has a helper thread to share a SIMD function's parts with, else null. */
function sharingProduct(memory: WebAssembly.Memory): PackedProduct | null {
  return productHelperOf(memory) !== undefined ? packedProduct(memory) : null;
}

/**
 * Runs the SIMD function `name` over `count` values (an elementwise one): as one call here, or, from
 * MIN_SHARED_VALUES `valuesWritten` (`count` unless a value makes several), in about SHARED_PARTS runs, each
 * starting at a multiple of `step`, that both threads claim (`sharingProduct`). `args` gives a run's
 * arguments.
 */
function runElementwise(
  memory: WebAssembly.Memory,
  exports: WebAssembly.Exports,
  name: string,
  count: number,
  step: number,
  args: (start: number, count: number) => number[],
  valuesWritten = count,
): void {
  const product = sharingProduct(memory);
  if (product === null || valuesWritten < MIN_SHARED_VALUES) {
    (exports[name] as Exported)(...args(0, count));
    return;
  }
  const length = step * Math.ceil(count / (SHARED_PARTS * step));
  const calls: ProductCall[] = [];
  for (let start = 0; start < count; start += length) {
    calls.push({ name, args: args(start, Math.min(length, count - start)), perThread: [] });
  }
  product.run(calls);
}

/** The tiles of `dims` in about SHARED_PARTS parts: groups of images, or each image's tile rows in groups. */
export function tileParts({ batch, tilesH }: WinogradTiles): TilePart[] {
  if (batch >= SHARED_PARTS) {
    return evenShares(batch, SHARED_PARTS).map(([image, end]) => ({
      image,
      images: end - image,
      firstRow: 0,
      rows: tilesH,
    }));
  }
  const rowGroups = Math.min(tilesH, Math.ceil(SHARED_PARTS / batch));
  return Array.from({ length: batch }, (_, image) =>
    evenShares(tilesH, rowGroups).map(([firstRow, end]) => ({
      image,
      images: 1,
      firstRow,
      rows: end - firstRow,
    })),
  ).flat();
}

/**
 * Runs a tile transform of F(m x m, r x r) (the export `name`) on all of `dims`' tiles: on this thread, or
 * in parts on both threads of our packed product where it has a helper and the transform is large enough
 * (each part reads its own patches and writes its own tiles: the same values either way). `args` gives a
 * part's arguments.
 */
function runTileTransform(
  memory: WebAssembly.Memory,
  exports: WebAssembly.Exports,
  name: string,
  dims: WinogradTiles & { count: number },
  args: (part: TilePart & { firstTile: number }) => number[],
): void {
  const { batch, tilesH, tilesW, channels, count } = dims;
  const withFirstTile = (part: TilePart) => ({
    ...part,
    firstTile: (part.image * tilesH + part.firstRow) * tilesW,
  });
  const product = sharingProduct(memory);
  if (product === null || batch * tilesH * tilesW * channels * count < MIN_SHARED_VALUES) {
    (exports[name] as Exported)(
      ...args(withFirstTile({ image: 0, images: batch, firstRow: 0, rows: tilesH })),
    );
    return;
  }
  product.run(tileParts(dims).map((part) => ({ name, args: args(withFirstTile(part)), perThread: [] })));
}

function winogradTransforms(
  m: number,
  r: number,
  exports: WebAssembly.Exports,
  inMemory: InMemory,
  memory: WebAssembly.Memory,
) {
  const count = (m + r - 1) ** 2;
  const name = (transform: string) => `${winogradExportPrefix(m, r)}${transform}`;
  /** The matrices' addresses from a part's first tile on. */
  const from = (matrices: Float32Array[], firstTile: number, channels: number) =>
    matrices.map((matrix) => matrix.byteOffset + 4 * firstTile * channels);
  const transforms: WinogradTransforms = {
    tileSize: m,
    filterSize: r,
    inputTiles: (x, tiles, dims) => {
      if (tiles.length !== count || !inMemory(x, ...tiles)) return false;
      const { tilesW, channels } = dims;
      const [height, width] = [m * dims.tilesH + r - 1, m * tilesW + r - 1];
      runTileTransform(memory, exports, name('InputTiles'), { ...dims, count }, (part) => [
        x.byteOffset + 4 * (part.image * height + m * part.firstRow) * width * channels,
        part.images,
        height,
        width,
        channels,
        part.rows,
        tilesW,
        ...from(tiles, part.firstTile, channels),
      ]);
      return true;
    },
    outputTiles: (products, y, dims) => {
      if (products.length !== count || !inMemory(y, ...products)) return false;
      runTileTransform(memory, exports, name('OutputTiles'), { ...dims, count }, (part) =>
        outputPartArgs(m, y, dims, part, from(products, part.firstTile, dims.channels)),
      );
      return true;
    },
    filter: winogradFilterTransform(memory, exports, name('Filter'), r, count, inMemory),
  };
  return { transforms, name, count, from };
}

/**
 * A part's arguments for a transform over the outputs `[batch, outHeight, outWidth, channels]` (y, or dy):
 * its first row's address, its images, the rows below its first (a part of one image clips its last tile
 * row there), the tiles and the matrices' addresses.
 */
function outputPartArgs(
  m: number,
  outputs: Float32Array,
  { channels, outHeight, outWidth, tilesW }: WinogradTiles & { outHeight: number; outWidth: number },
  part: TilePart,
  matrices: number[],
): number[] {
  const firstRow = part.image * outHeight + m * part.firstRow;
  return [
    outputs.byteOffset + 4 * firstRow * outWidth * channels,
    part.images,
    outHeight - m * part.firstRow,
    outWidth,
    channels,
    part.rows,
    tilesW,
    ...matrices,
  ];
}

function winogradTrainingTransforms(
  m: WinogradTileSize,
  exports: WebAssembly.Exports,
  inMemory: InMemory,
  memory: WebAssembly.Memory,
): WinogradTrainingTransforms {
  const { transforms, name, count, from } = winogradTransforms(m, 3, exports, inMemory, memory);
  return {
    ...transforms,
    gradientTiles: (dy, tiles, dims) => {
      if (tiles.length !== count || !inMemory(dy, ...tiles)) return false;
      runTileTransform(memory, exports, name('GradientTiles'), { ...dims, count }, (part) =>
        outputPartArgs(m, dy, dims, part, from(tiles, part.firstTile, dims.channels)),
      );
      return true;
    },
    filterGradient: winogradFilterTransform(memory, exports, name('FilterGradient'), 3, count, inMemory),
  };
}
