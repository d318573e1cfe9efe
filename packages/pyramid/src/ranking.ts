/** One (scale, location) candidate: cell `(row, col)` of the scale at `scaleIndex`. */
export interface Candidate {
  scaleIndex: number;
  row: number;
  col: number;
  scoreLogit: number;
}

/**
 * Indices of the `n` highest scores of `scores`, best first; ties go to the lower index, so that
 * the order never depends on how scales were batched.
 */
export function topIndices(scores: ArrayLike<number>, n: number): Int32Array {
  const order = Int32Array.from({ length: scores.length }, (_, k) => k);
  order.sort((a, b) => scores[b] - scores[a] || a - b);
  return order.subarray(0, Math.min(n, scores.length));
}

/** The `n` best candidates over all scales, best first; ties go to the earlier scale, row, column. */
export function rankCandidates(candidates: Candidate[], n: number): Candidate[] {
  return [...candidates]
    .sort(
      (a, b) => b.scoreLogit - a.scoreLogit || a.scaleIndex - b.scaleIndex || a.row - b.row || a.col - b.col,
    )
    .slice(0, n);
}
