import type { BlockTranspose } from './simd-kernels.js';

/**
 * A permutation that transposes a batch of matrices whose entries are blocks of `inner` values:
 * `[batch..., rows..., cols..., inner...] -> [batch..., cols..., rows..., inner...]`.
 */
export interface BatchedMatrices {
  batch: number;
  rows: number;
  cols: number;
  inner: number;
}

/** `perm` as a batch of block-matrix transposes of `shape`, or null when it moves axes in any other way. */
export function asBatchedMatrices(shape: readonly number[], perm: readonly number[]): BatchedMatrices | null {
  let first = 0;
  while (first < perm.length && perm[first] === first) first++;
  let end = perm.length;
  while (end > first && perm[end - 1] === end - 1) end--;
  if (first === end) return null;
  // perm[first .. end) must be [split .. end) followed by [first .. split).
  const split = perm[first];
  const moved = [...Array(end - split).keys()].map((t) => split + t);
  const stayed = [...Array(split - first).keys()].map((t) => first + t);
  if ([...moved, ...stayed].some((axis, t) => perm[first + t] !== axis)) return null;
  const product = (from: number, to: number) => shape.slice(from, to).reduce((p, d) => p * d, 1);
  return {
    batch: product(0, first),
    rows: product(first, split),
    cols: product(split, end),
    inner: product(end, shape.length),
  };
}

/**
 * Side of the square tiles a transpose walks: a tile's target rows (TILE lines of TILE values) stay in
 * the L1 cache while it fills them, where a row-by-row walk wrote every value to a different line (a
 * [100352, 512] weight: 420 ms row by row, tiled several times less).
 */
const TILE = 32;

/**
 * `target[b, c, r, :] = source[b, r, c, :]` for every matrix of the batch; with `blocks` (views of wasm
 * memory, inner 1) its 4x4 blocks by SIMD and only the last rows and columns here.
 */
export function transposeMatrices(
  source: Float32Array,
  m: BatchedMatrices,
  target: Float32Array,
  blocks?: BlockTranspose,
): void {
  const { batch, rows, cols, inner } = m;
  const size = rows * cols * inner;
  for (let b = 0; b < batch; b++) {
    const base = b * size;
    const view = (x: Float32Array) => x.subarray(base, base + size);
    if (inner === 1 && blocks?.(view(source), view(target), rows, cols)) {
      transposeTile(source, target, base, rows, cols, 0, rows, cols - (cols % 4), cols);
      transposeTile(source, target, base, rows, cols, rows - (rows % 4), rows, 0, cols - (cols % 4));
      continue;
    }
    for (let r0 = 0; r0 < rows; r0 += TILE) {
      const rEnd = Math.min(r0 + TILE, rows);
      for (let c0 = 0; c0 < cols; c0 += TILE) {
        const cEnd = Math.min(c0 + TILE, cols);
        if (inner === 1) transposeTile(source, target, base, rows, cols, r0, rEnd, c0, cEnd);
        else transposeBlockTile(source, target, base, m, r0, rEnd, c0, cEnd);
      }
    }
  }
}

function transposeTile(
  source: Float32Array,
  target: Float32Array,
  base: number,
  rows: number,
  cols: number,
  r0: number,
  rEnd: number,
  c0: number,
  cEnd: number,
): void {
  for (let c = c0; c < cEnd; c++) {
    let to = base + c * rows + r0;
    let from = base + r0 * cols + c;
    for (let r = r0; r < rEnd; r++, to++, from += cols) target[to] = source[from];
  }
}

function transposeBlockTile(
  source: Float32Array,
  target: Float32Array,
  base: number,
  { rows, cols, inner }: BatchedMatrices,
  r0: number,
  rEnd: number,
  c0: number,
  cEnd: number,
): void {
  for (let r = r0; r < rEnd; r++) {
    for (let c = c0; c < cEnd; c++) {
      const from = base + (r * cols + c) * inner;
      const to = base + (c * rows + r) * inner;
      if (inner < 16) for (let k = 0; k < inner; k++) target[to + k] = source[from + k];
      else target.set(source.subarray(from, from + inner), to);
    }
  }
}
