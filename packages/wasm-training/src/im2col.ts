import type { ConvGeometry } from './conv-geometry.js';

/**
 * The forward convolution's windows as the columns of a matrix: row (a, b, c) of the window, column
 * m = (n, i, j) of the output grid, i.e. `colsT[(a fw + b) C + c, m] = x[n, s i + a - padTop, s j + b -
 * padLeft, c]`, zero in the padding. Fills `colsT` ([fh fw C, images oh ow]) for the images `firstImage ..`.
 * Built transposed so that the filter gradient `colsT dy` is a product of untransposed operands.
 */
export function im2colTransposed(
  x: Float32Array,
  g: ConvGeometry,
  channels: number,
  firstImage: number,
  colsT: Float32Array,
): void {
  const windowSize = g.filterHeight * g.filterWidth * channels;
  const columns = colsT.length / windowSize;
  forEachWindowRow(g, channels, firstImage, colsT.length, (col, src, count) => {
    const m = Math.floor(col / windowSize);
    let at = (col - m * windowSize) * columns + m;
    for (let t = 0; t < count; t++, at += columns) colsT[at] = src < 0 ? 0 : x[src + t];
  });
}

/**
 * The adjoint of `im2colTransposed` with the matrix untransposed: adds every entry of `cols`
 * ([images oh ow, fh fw C]) back onto its input pixel, `dx += col2im(cols)`.
 */
export function col2imAdd(
  cols: Float32Array,
  g: ConvGeometry,
  channels: number,
  firstImage: number,
  dx: Float32Array,
): void {
  forEachWindowRow(g, channels, firstImage, cols.length, (col, src, count) => {
    if (src < 0) return;
    for (let t = 0; t < count; t++) dx[src + t] += cols[col + t];
  });
}

/**
 * Visits each window row (fixed m and a) as runs of `count` contiguous values: at `col` in the matrix and
 * at `src` in x, or `src = -1` where the run lies in the padding.
 */
function forEachWindowRow(
  g: ConvGeometry,
  channels: number,
  firstImage: number,
  matrixSize: number,
  visit: (col: number, src: number, count: number) => void,
): void {
  const { inHeight, inWidth, outHeight, outWidth, filterHeight, filterWidth, padTop, padLeft } = g;
  const [strideH, strideW] = g.strides;
  const rowLength = filterWidth * channels;
  const images = matrixSize / (outHeight * outWidth * filterHeight * rowLength);
  let col = 0;
  for (let n = firstImage; n < firstImage + images; n++) {
    for (let i = 0; i < outHeight; i++) {
      for (let j = 0; j < outWidth; j++) {
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
  }
}

/** Largest window matrix built at once (64 MiB); bigger batches are processed in chunks of images. */
let maxMatrixFloats = 1 << 24;

/** @internal Sets the window-matrix budget (tests force chunking with a small one); returns the old one. */
export function setWindowMatrixBudget(floats: number): number {
  const previous = maxMatrixFloats;
  maxMatrixFloats = floats;
  return previous;
}

/** Consecutive image ranges `[first, count]` whose window matrices stay within the budget. */
export function imageChunks(g: ConvGeometry, channels: number): Array<[number, number]> {
  const perImage = g.outHeight * g.outWidth * g.filterHeight * g.filterWidth * channels;
  const size = Math.max(1, Math.floor(maxMatrixFloats / perImage));
  const chunks: Array<[number, number]> = [];
  for (let first = 0; first < g.batchSize; first += size) {
    chunks.push([first, Math.min(size, g.batchSize - first)]);
  }
  return chunks;
}
