import type { Box, MaskFacts } from './iou.js';

/** A ground-truth object as COCOeval sees it (`_prepare`): ignore = iscrowd, area and box verbatim. */
export interface EvalGt {
  id: number;
  area: number;
  crowd: boolean;
  bbox: Box;
  mask?: MaskFacts;
}

/** A detection in the order COCOeval matches it (descending score, stable). */
export interface EvalDt {
  id: number;
  score: number;
  area: number;
  bbox: Box;
  mask?: MaskFacts;
}

/** `evaluateImg` for one area range, with gts in COCOeval's order (not ignored first). */
export interface AreaMatch {
  /** Pool index of each gt, in evaluation order. */
  gtOrder: Int32Array;
  /** [G] 1 where the gt is ignored (crowd or outside the area range), in evaluation order. */
  gtIgnore: Uint8Array;
  /** Number of gts not ignored. */
  gtCount: number;
  /** [T, D] evaluation-order index of the matched gt, -1 when unmatched. */
  dtMatch: Int32Array;
  /** [T, D] 1 where the match counts (COCOeval tests the stored gt id > 0). */
  dtMatched: Uint8Array;
  /** [T, D] 1 where the detection is ignored. */
  dtIgnore: Uint8Array;
  /** [T, G] index of the detection matched to each gt (the last one for a crowd gt), -1 when none. */
  gtMatch: Int32Array;
}

const MAX_IOU = 1 - 1e-10;

/**
 * COCOeval.evaluateImg: greedy matching of detections (score order) to gts at each IoU threshold.
 * `ious` is [D, G] with gts in pool order; `dtMaxIou` lets a detection that reaches no threshold be skipped.
 */
export function matchImage(
  dts: readonly EvalDt[],
  gts: readonly EvalGt[],
  ious: Float64Array,
  dtMaxIou: Float64Array,
  iouThrs: readonly number[],
  [lo, hi]: readonly [number, number],
): AreaMatch {
  const D = dts.length;
  const G = gts.length;
  const T = iouThrs.length;
  const ignored = gts.map((g) => g.crowd || g.area < lo || g.area > hi);
  const gtOrder = Int32Array.from(
    gts.map((_, i) => i).sort((a, b) => Number(ignored[a]) - Number(ignored[b]) || a - b),
  );
  const gtIgnore = Uint8Array.from(gtOrder, (i) => Number(ignored[i]));
  const crowd = Uint8Array.from(gtOrder, (i) => Number(gts[i].crowd));
  const gtIdIsZero = Uint8Array.from(gtOrder, (i) => Number(gts[i].id === 0));
  let gtCount = 0;
  for (let g = 0; g < G; g++) gtCount += 1 - gtIgnore[g];
  const dtMatch = new Int32Array(T * D).fill(-1);
  const dtMatched = new Uint8Array(T * D);
  const dtIgnore = new Uint8Array(T * D);
  const gtMatch = new Int32Array(T * G).fill(-1);
  if (D > 0 && G > 0) {
    // Only gts that reach the lowest threshold can be matched. Skipping the others is exact: they fail the
    // IoU test, and an ignored one that would have ended the search is followed only by ignored gts,
    // which cannot replace a match on a gt that is not ignored.
    let lowest = MAX_IOU;
    for (const t of iouThrs) lowest = Math.min(lowest, t);
    const candidateStart = new Int32Array(D + 1);
    const candidates = new Int32Array(D * G);
    let n = 0;
    for (let d = 0; d < D; d++) {
      candidateStart[d] = n;
      if (dtMaxIou[d] < lowest) continue;
      for (let g = 0; g < G; g++) if (ious[d * G + gtOrder[g]] >= lowest) candidates[n++] = g;
    }
    candidateStart[D] = n;
    for (let t = 0; t < T; t++) {
      const threshold = Math.min(iouThrs[t], MAX_IOU);
      const gtRow = t * G;
      for (let d = 0; d < D; d++) {
        if (dtMaxIou[d] < threshold) continue;
        let best = threshold;
        let m = -1;
        const iouRow = d * G;
        for (let c = candidateStart[d]; c < candidateStart[d + 1]; c++) {
          const g = candidates[c];
          if (gtMatch[gtRow + g] >= 0 && !crowd[g]) continue;
          if (m > -1 && gtIgnore[m] === 0 && gtIgnore[g] === 1) break;
          const iou = ious[iouRow + gtOrder[g]];
          if (iou < best) continue;
          best = iou;
          m = g;
        }
        if (m === -1) continue;
        dtIgnore[t * D + d] = gtIgnore[m];
        dtMatch[t * D + d] = m;
        dtMatched[t * D + d] = 1 - gtIdIsZero[m];
        gtMatch[gtRow + m] = d;
      }
    }
  }
  for (let d = 0; d < D; d++) {
    const area = dts[d].area;
    if (area >= lo && area <= hi) continue;
    for (let t = 0; t < T; t++) if (dtMatched[t * D + d] === 0) dtIgnore[t * D + d] = 1;
  }
  return { gtOrder, gtIgnore, gtCount, dtMatch, dtMatched, dtIgnore, gtMatch };
}
