import type { AreaMatch } from './match.js';
import type { EvalParams } from './params.js';
import type { Pool } from './pools.js';

/** `np.spacing(1)`, added to tp + fp as COCOeval does. */
const EPS = 2.220446049250313e-16;

export interface Accumulated {
  /** [T, R, K, A, M] precision at each recall threshold, -1 where there is nothing to score. */
  precision: Float64Array;
  /** [T, K, A, M] final recall, -1 where there are no gts to find. */
  recall: Float64Array;
}

/**
 * COCOeval.accumulate. Detections of all images are sorted by score once per category: the subset kept
 * under a smaller maxDet keeps the same relative order, as a stable sort gives it.
 * `matches[k][i][a]` is the evaluateImg output of pools[k][i] for area range a.
 */
export function accumulate(
  pools: readonly (Pool | null)[][],
  matches: readonly (readonly AreaMatch[] | null)[][],
  params: EvalParams,
): Accumulated {
  const T = params.iouThrs.length;
  const R = params.recThrs.length;
  const K = params.catIds.length;
  const A = params.areaRanges.length;
  const M = params.maxDets.length;
  const precision = new Float64Array(T * R * K * A * M).fill(-1);
  const recall = new Float64Array(T * K * A * M).fill(-1);
  for (let k = 0; k < K; k++) {
    const records: { pool: Pool; areas: readonly AreaMatch[] }[] = [];
    for (let i = 0; i < pools[k].length; i++) {
      const pool = pools[k][i];
      if (pool) records.push({ pool, areas: matches[k][i]! });
    }
    if (records.length === 0) continue;
    let total = 0;
    for (const r of records) total += r.pool.dts.length;
    const score = new Float64Array(total);
    const rank = new Int32Array(total);
    let j = 0;
    records.forEach((r) => {
      r.pool.dts.forEach((d, local) => {
        score[j] = d.score;
        rank[j] = local;
        j++;
      });
    });
    const order = Array.from({ length: total }, (_, n) => n).sort((a, b) => score[b] - score[a] || a - b);
    const positionOf = new Int32Array(total);
    order.forEach((n, q) => {
      positionOf[n] = q;
    });
    // kept[m]: positions in `order` of the detections within each image's first maxDets[m]
    const kept = params.maxDets.map((maxDet) => {
      const positions = new Int32Array(total);
      let nd = 0;
      for (let q = 0; q < total; q++) if (rank[order[q]] < maxDet) positions[nd++] = q;
      return positions.subarray(0, nd);
    });
    // [T, total] in score order: 1 = true positive, 2 = false positive, 0 = ignored
    const outcome = new Uint8Array(T * total);
    const rc = new Float64Array(total);
    const pr = new Float64Array(total);
    for (let a = 0; a < A; a++) {
      let npig = 0;
      for (const r of records) npig += r.areas[a].gtCount;
      if (npig === 0) continue;
      let first = 0;
      for (const r of records) {
        const match = r.areas[a];
        const D = r.pool.dts.length;
        for (let d = 0; d < D; d++) {
          const q = positionOf[first + d];
          for (let t = 0; t < T; t++) {
            const at = t * D + d;
            outcome[t * total + q] = match.dtIgnore[at] ? 0 : match.dtMatched[at] ? 1 : 2;
          }
        }
        first += D;
      }
      for (let m = 0; m < M; m++) {
        const positions = kept[m];
        const nd = positions.length;
        for (let t = 0; t < T; t++) {
          const row = t * total;
          let tp = 0;
          let fp = 0;
          for (let i = 0; i < nd; i++) {
            const o = outcome[row + positions[i]];
            if (o === 1) tp++;
            else if (o === 2) fp++;
            rc[i] = tp / npig;
            pr[i] = tp / (fp + tp + EPS);
          }
          const cell = (t * K + k) * A + a;
          recall[cell * M + m] = nd > 0 ? rc[nd - 1] : 0;
          for (let i = nd - 1; i > 0; i--) if (pr[i] > pr[i - 1]) pr[i - 1] = pr[i];
          let i = 0;
          for (let r = 0; r < R; r++) {
            while (i < nd && rc[i] < params.recThrs[r]) i++;
            precision[(((t * R + r) * K + k) * A + a) * M + m] = i < nd ? pr[i] : 0;
          }
        }
      }
    }
  }
  return { precision, recall };
}
