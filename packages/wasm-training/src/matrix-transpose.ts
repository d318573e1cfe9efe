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

/** `target[b, c, r, :] = source[b, r, c, :]` for every matrix of the batch. */
export function transposeMatrices(source: Float32Array, m: BatchedMatrices, target: Float32Array): void {
  const { batch, rows, cols, inner } = m;
  const size = rows * cols * inner;
  for (let b = 0; b < batch; b++) {
    const base = b * size;
    for (let r = 0; r < rows; r++) {
      let from = base + r * cols * inner;
      for (let c = 0; c < cols; c++, from += inner) {
        const to = base + (c * rows + r) * inner;
        if (inner < 16) for (let k = 0; k < inner; k++) target[to + k] = source[from + k];
        else target.set(source.subarray(from, from + inner), to);
      }
    }
  }
}
