import { type ConvGeometry, insideOutputs } from './conv-geometry.js';
import type { DeinterleaveRows } from './simd-kernels.js';
import { copyRun } from './wasm-heap.js';

/**
 * One filter tap's share of the forward convolution's windows: `taps[c, col] = x[n, s i + a - padTop,
 * s j + b - padLeft, c]` for the output positions `col = firstColumn ..` (n, i, j), zero in the padding,
 * read from `xT` = x as [C, N H W]. Stacked over the taps (a, b) these are the window matrix
 * `[fh fw C, positions]` that the filter gradient multiplies by dy.
 *
 * Every channel's row takes the same copies and zeros (`tapPlan`): at stride 1 with the output as large
 * as the input, one shifted copy of the whole row, then zeros at the border positions. (Building the
 * whole window matrix stored every value to one of 16 rows in turn and took ~4x as long.)
 */
export function tapColumns(
  xT: Float32Array,
  g: ConvGeometry,
  tap: [number, number],
  firstColumn: number,
  taps: Float32Array,
): void {
  const pixels = g.batchSize * g.inHeight * g.inWidth;
  const channels = xT.length / pixels;
  const columns = taps.length / channels;
  const { copies, zeros } = tapPlan(g, tap, firstColumn, columns);
  const stride = g.strides[1];
  for (let c = 0; c < channels; c++) {
    const row = c * columns;
    const source = c * pixels;
    for (let k = 0; k < copies.length; k += 3) {
      copyStrided(xT, source + copies[k + 1], stride, taps, row + copies[k], copies[k + 2]);
    }
    for (let k = 0; k < zeros.length; k++) taps[row + zeros[k]] = 0;
  }
}

/**
 * What every channel row of a tap matrix takes: `copies` as [column, source pixel, length] triples
 * (source pixels `stride` apart) and the `zeros` columns, written after the copies.
 */
function tapPlan(
  g: ConvGeometry,
  [a, b]: [number, number],
  firstColumn: number,
  columns: number,
): { copies: number[]; zeros: number[] } {
  const { inHeight, inWidth, outHeight, outWidth, padTop, padLeft } = g;
  const [strideH, strideW] = g.strides;
  const shift = b - padLeft;
  const [jLo, jHi] = insideOutputs(outWidth, inWidth, strideW, shift);
  const copies: number[] = [];
  const zeros: number[] = [];
  const zero = (from: number, to: number) => {
    for (let k = from; k < to; k++) zeros.push(k);
  };
  let col = 0;
  for (let m = firstColumn; col < columns; ) {
    const j0 = m % outWidth;
    const i = Math.floor(m / outWidth) % outHeight;
    const n = Math.floor(m / (outWidth * outHeight));
    const length = Math.min(outWidth - j0, columns - col);
    const y = i * strideH + a - padTop;
    if (y < 0 || y >= inHeight) {
      zero(col, col + length);
    } else {
      const lo = Math.min(Math.max(j0, jLo), j0 + length);
      const hi = Math.max(lo, Math.min(j0 + length, jHi));
      zero(col, col + lo - j0);
      if (hi > lo) copies.push(col + lo - j0, (n * inHeight + y) * inWidth + shift + strideW * lo, hi - lo);
      zero(col + hi - j0, col + length);
    }
    col += length;
    m += length;
  }
  const sameGrid = strideH === 1 && strideW === 1 && outHeight === inHeight && outWidth === inWidth;
  if (!sameGrid || copies.length === 0) return { copies, zeros };
  // Output position m reads pixel m + delta; the zeros overwrite what the one copy puts in the padding.
  const delta = (a - padTop) * inWidth + shift;
  const pixels = g.batchSize * inHeight * inWidth;
  const from = Math.max(0, -(firstColumn + delta));
  const to = Math.min(columns, pixels - (firstColumn + delta));
  return { copies: [from, firstColumn + delta + from, to - from], zeros };
}

/** `target[to + k] = source[from + stride k]` for k < length. */
function copyStrided(
  source: Float32Array,
  from: number,
  stride: number,
  target: Float32Array,
  to: number,
  length: number,
): void {
  if (stride === 1) {
    copyRun(source, from, target, to, length);
    return;
  }
  for (let k = 0; k < length; k++) target[to + k] = source[from + stride * k];
}

/** Where one stride phase of x^T lies: rows `r, r + sh, ..` and columns `q, q + sw, ..` of every image. */
interface PhaseBlock {
  offset: number;
  height: number;
  width: number;
}

/** The phases (r, q), r < sh, q < sw, in that order, as stored by `splitPhases`: each a [C, N, height, width]. */
function phaseBlocks(g: ConvGeometry, channels: number): PhaseBlock[] {
  const [strideH, strideW] = g.strides;
  const blocks: PhaseBlock[] = [];
  let offset = 0;
  for (let r = 0; r < strideH; r++) {
    for (let q = 0; q < strideW; q++) {
      const height = Math.ceil((g.inHeight - r) / strideH);
      const width = Math.ceil((g.inWidth - q) / strideW);
      blocks.push({ offset, height, width });
      offset += channels * g.batchSize * height * width;
    }
  }
  return blocks;
}

/**
 * Regroups x^T (`[C, N H W]`) by pixel position modulo the strides into `phases` (as large as x^T), so that
 * a strided convolution's taps each read one phase at stride 1 (`phaseTap`): whole shifted rows instead of
 * every other value (3.3 ns per value as a JS loop, for every tap; this pass reads each pixel once). Rows
 * at a horizontal stride of 2 are split by `deinterleave` (our SIMD module) where it runs.
 */
export function splitPhases(
  xT: Float32Array,
  g: ConvGeometry,
  phases: Float32Array,
  deinterleave?: DeinterleaveRows,
): void {
  const { batchSize, inHeight, inWidth } = g;
  const [strideH, strideW] = g.strides;
  const channels = xT.length / (batchSize * inHeight * inWidth);
  const blocks = phaseBlocks(g, channels);
  if (
    strideW === 2 &&
    deinterleave !== undefined &&
    splitPairs(xT, g, channels, blocks, phases, deinterleave)
  ) {
    return;
  }
  for (let r = 0; r < strideH; r++) {
    for (let q = 0; q < strideW; q++) {
      const { offset, height, width } = blocks[r * strideW + q];
      let to = offset;
      for (let image = 0; image < channels * batchSize; image++) {
        for (let y = 0; y < height; y++) {
          let from = (image * inHeight + y * strideH + r) * inWidth + q;
          for (let k = 0; k < width; k++, from += strideW) phases[to++] = xT[from];
        }
      }
    }
  }
}

/** `splitPhases` at a horizontal stride of 2: each image's rows of a phase row r in one call; false if declined. */
function splitPairs(
  xT: Float32Array,
  g: ConvGeometry,
  channels: number,
  blocks: PhaseBlock[],
  phases: Float32Array,
  deinterleave: DeinterleaveRows,
): boolean {
  const [strideH] = g.strides;
  for (let r = 0; r < strideH; r++) {
    const [even, odd] = [blocks[2 * r], blocks[2 * r + 1]];
    for (let image = 0; image < channels * g.batchSize; image++) {
      const rows = {
        from: (image * g.inHeight + r) * g.inWidth,
        rowStride: strideH * g.inWidth,
        count: even.height,
        width: g.inWidth,
        even: even.offset + image * even.height * even.width,
        odd: odd.offset + image * odd.height * odd.width,
      };
      if (!deinterleave(xT, phases, rows)) return false;
    }
  }
  return true;
}

/**
 * What tap (a, b) of a strided convolution reads from `splitPhases`' output: the values of one phase
 * (`offset`, `length`), read at stride 1 by tap (0, 0) of `g`, or null when that phase is empty (an input
 * smaller than the stride).
 */
export function phaseTap(
  g: ConvGeometry,
  channels: number,
  [a, b]: [number, number],
): { offset: number; length: number; g: ConvGeometry } | null {
  const [strideH, strideW] = g.strides;
  const r = mod(a - g.padTop, strideH);
  const q = mod(b - g.padLeft, strideW);
  const { offset, height, width } = phaseBlocks(g, channels)[r * strideW + q];
  if (height <= 0 || width <= 0) return null;
  // Row s i + a - padTop = s (i + d) + r: phase row i + d, i.e. tap 0 of a stride-1 read padded by -d.
  const d = (a - g.padTop - r) / strideH;
  const e = (b - g.padLeft - q) / strideW;
  return {
    offset,
    length: channels * g.batchSize * height * width,
    g: { ...g, inHeight: height, inWidth: width, strides: [1, 1], padTop: -d, padLeft: -e },
  };
}

function mod(value: number, modulus: number): number {
  return ((value % modulus) + modulus) % modulus;
}

/**
 * The adjoint of the window matrix (`[columns, fh fw C]`: row m holds the window of output position
 * `firstColumn + m`, as `tapColumns` give it tap by tap): adds every entry of `cols` back onto its input
 * pixel, `dx += col2im(cols)`.
 */
export function col2imAdd(
  cols: Float32Array,
  g: ConvGeometry,
  channels: number,
  firstColumn: number,
  dx: Float32Array,
): void {
  const windowSize = g.filterHeight * g.filterWidth * channels;
  forEachWindowRow(g, channels, firstColumn, cols.length / windowSize, (col, src, count) => {
    if (src < 0) return;
    for (let t = 0; t < count; t++) dx[src + t] += cols[col + t];
  });
}

/**
 * Visits each window row (fixed output position m = (n, i, j) and filter row a) of the positions
 * `firstColumn .. firstColumn + columns - 1` as runs of `count` contiguous values: at `col` in the
 * untransposed matrix and at `src` in x, or `src = -1` where the run lies in the padding.
 */
function forEachWindowRow(
  g: ConvGeometry,
  channels: number,
  firstColumn: number,
  columns: number,
  visit: (col: number, src: number, count: number) => void,
): void {
  const { inHeight, inWidth, outHeight, outWidth, filterHeight, filterWidth, padTop, padLeft } = g;
  const [strideH, strideW] = g.strides;
  const rowLength = filterWidth * channels;
  let col = 0;
  for (let m = firstColumn; m < firstColumn + columns; m++) {
    const j = m % outWidth;
    const i = Math.floor(m / outWidth) % outHeight;
    const n = Math.floor(m / (outWidth * outHeight));
    const left = j * strideW - padLeft;
    // Filter columns b in [first, last) fall inside the image.
    const first = Math.max(0, -left);
    const last = Math.min(filterWidth, inWidth - left);
    for (let a = 0; a < filterHeight; a++, col += rowLength) {
      const y = i * strideH + a - padTop;
      if (y < 0 || y >= inHeight || first >= last) {
        visit(col, -1, rowLength);
        continue;
      }
      if (first > 0) visit(col, -1, first * channels);
      const src = ((n * inHeight + y) * inWidth + left + first) * channels;
      visit(col + first * channels, src, (last - first) * channels);
      if (last < filterWidth) visit(col + last * channels, -1, (filterWidth - last) * channels);
    }
  }
}

/**
 * Largest window matrix built at once (16 Mi floats, 64 MiB): bigger batches are processed in chunks of
 * output positions, whose partial products are summed. Smaller chunks were no faster.
 */
let maxMatrixFloats = 1 << 24;

/** @internal Sets the window-matrix budget (tests force chunking with a small one); returns the old one. */
export function setWindowMatrixBudget(floats: number): number {
  const previous = maxMatrixFloats;
  maxMatrixFloats = floats;
  return previous;
}

/**
 * Consecutive ranges `[firstColumn, count]` of output positions (n, i, j) whose matrices, of
 * `floatsPerPosition` values per position, stay within the budget, at least one position each.
 */
export function windowChunks(g: ConvGeometry, floatsPerPosition: number): Array<[number, number]> {
  const total = g.batchSize * g.outHeight * g.outWidth;
  const size = Math.max(1, Math.floor(maxMatrixFloats / floatsPerPosition));
  const chunks: Array<[number, number]> = [];
  for (let first = 0; first < total; first += size) chunks.push([first, Math.min(size, total - first)]);
  return chunks;
}
