import type { ConvGeometry } from './conv-geometry.js';

/**
 * The forward convolution's windows as the columns of a matrix: row (a, b, c) of the window, column
 * m = (n, i, j) of the output grid, i.e. `colsT[(a fw + b) C + c, m] = x[n, s i + a - padTop, s j + b -
 * padLeft, c]`, zero in the padding. Fills `colsT` ([fh fw C, columns]) for the output positions
 * `firstColumn ..`. Built transposed so that the filter gradient `colsT dy` is a product of untransposed
 * operands.
 *
 * Written row by row, for each filter position (a, b) and panel of up to 16 channels: every store lands
 * next to the previous one of its row. (Window by window, each store went to a different row: 1.3x slower
 * at 256 channels, 3x at 64, 2.8x for 3-channel images.)
 */
export function im2colTransposed(
  x: Float32Array,
  g: ConvGeometry,
  channels: number,
  firstColumn: number,
  colsT: Float32Array,
): void {
  const { inHeight, inWidth, outHeight, outWidth, filterHeight, filterWidth, padTop, padLeft } = g;
  const [strideH, strideW] = g.strides;
  const columns = colsT.length / (filterHeight * filterWidth * channels);
  const panel = Math.min(channels, 16);
  for (let a = 0; a < filterHeight; a++) {
    for (let b = 0; b < filterWidth; b++) {
      for (let c0 = 0; c0 < channels; c0 += panel) {
        const width = Math.min(panel, channels - c0);
        const rowStart = ((a * filterWidth + b) * channels + c0) * columns;
        let j = firstColumn % outWidth;
        let i = Math.floor(firstColumn / outWidth) % outHeight;
        let n = Math.floor(firstColumn / (outWidth * outHeight));
        for (let col = 0; col < columns; col++) {
          const y = i * strideH + a - padTop;
          const xx = j * strideW + b - padLeft;
          let at = rowStart + col;
          if (y < 0 || y >= inHeight || xx < 0 || xx >= inWidth) {
            for (let t = 0; t < width; t++, at += columns) colsT[at] = 0;
          } else {
            const src = ((n * inHeight + y) * inWidth + xx) * channels + c0;
            for (let t = 0; t < width; t++, at += columns) colsT[at] = x[src + t];
          }
          if (++j === outWidth) {
            j = 0;
            if (++i === outHeight) {
              i = 0;
              n++;
            }
          }
        }
      }
    }
  }
}

/**
 * The adjoint of `im2colTransposed` with the matrix untransposed: adds every entry of `cols`
 * ([columns, fh fw C], output positions `firstColumn ..`) back onto its input pixel, `dx += col2im(cols)`.
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
 * Consecutive ranges `[firstColumn, count]` of output positions (n, i, j) whose window matrices stay
 * within the budget, at least one position each.
 */
export function windowChunks(g: ConvGeometry, channels: number): Array<[number, number]> {
  const windowSize = g.filterHeight * g.filterWidth * channels;
  const total = g.batchSize * g.outHeight * g.outWidth;
  const size = Math.max(1, Math.floor(maxMatrixFloats / windowSize));
  const chunks: Array<[number, number]> = [];
  for (let first = 0; first < total; first += size) chunks.push([first, Math.min(size, total - first)]);
  return chunks;
}
