import * as tf from '@tensorflow/tfjs-core';

/** One cell of the dense score grid: image `batch` of the input, `row` and `col` of its grid. */
export interface DenseCell {
  batch: number;
  row: number;
  col: number;
}

const isIndex = (value: unknown, size: number) =>
  typeof value === 'number' && Number.isInteger(value) && value >= 0 && value < size;

/** Throws an error naming `where`, the bad cell and the grid when a cell is not in `[batch, rows, cols]`. */
export function checkCells(cells: readonly DenseCell[], grid: readonly number[], where: string): void {
  if (!Array.isArray(cells)) {
    throw new Error(`${where}: cells must be an array of { batch, row, col }; got ${typeof cells}`);
  }
  const [batch, rows, cols] = grid;
  cells.forEach((cell, k) => {
    const ok =
      cell !== null &&
      typeof cell === 'object' &&
      isIndex(cell.batch, batch) &&
      isIndex(cell.row, rows) &&
      isIndex(cell.col, cols);
    if (!ok) {
      throw new Error(
        `${where}: cells[${k}] is ${JSON.stringify(cell)}; expected integers batch < ${batch}, ` +
          `row < ${rows}, col < ${cols} (the score grid of maskFeatures)`,
      );
    }
  });
}

/**
 * Bound on the unfolded windows of one `windowsTimes` chunk. The weight is read once per chunk: on wasm,
 * MobileNet-v1's [K, 100352] x [100352, 512] ran 1.35x faster per row at 164 rows (64 MiB) than at 41 (16 MiB),
 * and 300 cells' `windowsTimes` 1.1x faster.
 */
export const WINDOW_CHUNK_BYTES = 64 * 2 ** 20;

/**
 * `multiply` ([K, f * f * C] -> [K, E]) applied to the `f x f` windows of `cells` in `x` [B, h, w, C]:
 * the windows are unfolded in chunks of at most `chunkBytes`, each chunk one call. They are copied in JS
 * from one read of `x`: on wasm, tf.gather moves one element at a time and tf.slice copies its whole
 * input per call, both far slower than copying window rows. Call inside a tidy, with cells checked.
 */
export function windowsTimes(
  x: tf.Tensor4D,
  cells: readonly DenseCell[],
  f: number,
  multiply: (windows: tf.Tensor2D) => tf.Tensor2D,
  chunkBytes = WINDOW_CHUNK_BYTES,
): tf.Tensor2D {
  const windowSize = f * f * x.shape[3];
  const perChunk = Math.max(1, Math.floor(chunkBytes / (4 * windowSize)));
  const values = x.dataSync() as Float32Array;
  // Reused across chunks: each chunk's tensor is consumed by `multiply` before the next fill.
  const windows = windowsBuffer(Math.min(perChunk, cells.length) * windowSize);
  const parts: tf.Tensor2D[] = [];
  for (let from = 0; from < cells.length; from += perChunk) {
    const chunk = cells.slice(from, from + perChunk);
    copyWindows(values, x.shape, f, chunk, windows);
    const unfolded = tf.tensor2d(windows.subarray(0, chunk.length * windowSize), [chunk.length, windowSize]);
    parts.push(multiply(unfolded));
    unfolded.dispose();
  }
  return parts.length === 1 ? parts[0] : (tf.concat(parts, 0) as tf.Tensor2D);
}

let keptWindows = new Float32Array(0);

/**
 * A buffer of at least `length` floats (one chunk's windows), kept between calls: a fresh one faults its
 * pages in again at every call, ~8 us a page on these VMs (130 ms for 64 MiB), and a full-scene pass
 * embeds at each of its scales. On wasm, MobileNet-v1's 7 calls of 143 cells took 1.76-1.97 s with it,
 * 2.74-2.82 s without.
 */
function windowsBuffer(length: number): Float32Array {
  if (keptWindows.length < length) keptWindows = new Float32Array(length);
  return keptWindows;
}

/**
 * Copies the `f x f` windows of `cells` (top-left corner at the cell) out of NHWC `values` of shape
 * `[B, h, w, c]` into `into`, one window after the other, each row-major as `[f, f, c]`: a window row
 * is `f * c` contiguous values.
 */
export function copyWindows(
  values: Float32Array,
  shape: readonly number[],
  f: number,
  cells: readonly DenseCell[],
  into: Float32Array,
): void {
  const [, h, w, c] = shape;
  const rowLength = f * c;
  let offset = 0;
  for (const { batch, row, col } of cells) {
    for (let dy = 0; dy < f; dy++) {
      const start = ((batch * h + row + dy) * w + col) * c;
      into.set(values.subarray(start, start + rowLength), offset);
      offset += rowLength;
    }
  }
}
