import { accumulate } from './accumulate.js';
import type { CocoDataset } from './dataset.js';
import { type AreaMatch, matchImage } from './match.js';
import { type AreaRange, type EvalParams, type IouType, makeParams } from './params.js';
import { buildPools, type Pool } from './pools.js';
import { loadDetections } from './results.js';
import { STAT_NAMES, summarizeExtra, summarizeStats, summarizeValue } from './summarize.js';

export interface EvaluateOptions {
  iouType: IouType;
  /** false: class-agnostic proposal scoring (COCOeval useCats = 0). Default true. */
  useCats?: boolean;
  /** Default [1, 10, 100], or [1, 10, 100, 1000] when useCats is false. Sorted ascending. */
  maxDets?: readonly number[];
  /** Default all / small / medium / large as COCOeval. */
  areaRanges?: readonly AreaRange[];
  /** Build `perImage` (default true). */
  perImage?: boolean;
  /** Names the results in error messages. */
  resultsName?: string;
}

/**
 * One image (and category; -1 in class-agnostic mode) at area range "all", as COCOeval.evaluateImg
 * leaves it, for viewers: which gt each detection matched at each IoU threshold, and at what IoU.
 * Matrices are flat, row-major: [T, D] means index t * D + d, T = params.iouThrs.length.
 */
export interface ImageEvaluation {
  imageId: number;
  categoryId: number;
  /** [D] detections in score order, cut to the largest maxDet. */
  dtIds: Float64Array;
  dtScores: Float64Array;
  /** [G] gts in evaluation order (not ignored first). */
  gtIds: Float64Array;
  gtIgnore: Uint8Array;
  gtIsCrowd: Uint8Array;
  /** [D, G] IoU of detection and gt, in the orders above. */
  ious: Float64Array;
  /** [T, D] id of the matched gt, 0 when unmatched. */
  dtMatches: Float64Array;
  /** [T, G] id of the matched detection (the last one for a crowd gt), 0 when unmatched. */
  gtMatches: Float64Array;
  /** [T, G] IoU with the matched detection, 0 when unmatched. */
  gtMatchIou: Float64Array;
  /** [T, D] 1 where the detection is ignored (matched to an ignored gt, or unmatched outside the area). */
  dtIgnore: Uint8Array;
}

export interface EvaluationResult {
  /** The 12 numbers of COCOeval.summarize, in its order (names in `statNames`). */
  stats: number[];
  statNames: readonly string[];
  /** AR@N, AR_small@N, AR_medium@N, AR_large@N and AP@N for every N in maxDets. */
  extra: Record<string, number>;
  /** AP per category id (area all, maxDet 100; -1 when absent), "-1" in class-agnostic mode. */
  perCategoryAP: Record<string, number>;
  params: EvalParams;
  /** [T, R, K, A, M] as COCOeval.eval['precision'], flattened in C order. */
  precision: Float64Array;
  /** [T, K, A, M] as COCOeval.eval['recall']. */
  recall: Float64Array;
  /** Images with ground truth or detections, ascending id (category ascending within an image). */
  perImage: ImageEvaluation[];
}

/**
 * COCOeval for `segm` or `bbox` results: evaluate, accumulate and summarize, with the same numbers.
 * `results` is a list of CocoResult (or its JSON text), validated against `gt`.
 */
export function evaluate(gt: CocoDataset, results: unknown, options: EvaluateOptions): EvaluationResult {
  const params = makeParams(gt, options);
  const detections = loadDetections(gt, results, params.iouType === 'segm', options.resultsName);
  const pools = buildPools(gt, detections, params);
  const wantImages = options.perImage ?? true;
  const allIndex = Math.max(
    0,
    params.areaRanges.findIndex((a) => a.label === 'all'),
  );
  const perImage: ImageEvaluation[] = [];
  const matches = pools.map((row) =>
    row.map((pool) => {
      if (!pool) return null;
      const areas = params.areaRanges.map((a) =>
        matchImage(pool.dts, pool.gts, pool.ious, pool.dtMaxIou, params.iouThrs, a.range),
      );
      if (wantImages) perImage.push(imageEvaluation(pool, areas[allIndex], params.iouThrs.length));
      return areas;
    }),
  );
  const acc = accumulate(pools, matches, params);
  const perCategoryAP: Record<string, number> = {};
  params.catIds.forEach((id, categoryIndex) => {
    perCategoryAP[String(id)] = summarizeValue(acc, params, { ap: true, maxDet: 100, categoryIndex });
  });
  perImage.sort((a, b) => a.imageId - b.imageId || a.categoryId - b.categoryId);
  return {
    stats: summarizeStats(acc, params),
    statNames: STAT_NAMES,
    extra: summarizeExtra(acc, params),
    perCategoryAP,
    params,
    precision: acc.precision,
    recall: acc.recall,
    perImage,
  };
}

function imageEvaluation(pool: Pool, match: AreaMatch, T: number): ImageEvaluation {
  const D = pool.dts.length;
  const G = pool.gts.length;
  const gts = Array.from(match.gtOrder, (i) => pool.gts[i]);
  const ious = new Float64Array(D * G);
  for (let d = 0; d < D; d++)
    for (let g = 0; g < G; g++) ious[d * G + g] = pool.ious[d * G + match.gtOrder[g]];
  const dtMatches = new Float64Array(T * D);
  for (let i = 0; i < T * D; i++) dtMatches[i] = match.dtMatch[i] < 0 ? 0 : gts[match.dtMatch[i]].id;
  const gtMatches = new Float64Array(T * G);
  const gtMatchIou = new Float64Array(T * G);
  for (let t = 0; t < T; t++) {
    for (let g = 0; g < G; g++) {
      const d = match.gtMatch[t * G + g];
      if (d < 0) continue;
      gtMatches[t * G + g] = pool.dts[d].id;
      gtMatchIou[t * G + g] = ious[d * G + g];
    }
  }
  return {
    imageId: pool.imageId,
    categoryId: pool.categoryId,
    dtIds: Float64Array.from(pool.dts, (d) => d.id),
    dtScores: Float64Array.from(pool.dts, (d) => d.score),
    gtIds: Float64Array.from(gts, (g) => g.id),
    gtIgnore: match.gtIgnore,
    gtIsCrowd: Uint8Array.from(gts, (g) => Number(g.crowd)),
    ious,
    dtMatches,
    gtMatches,
    gtMatchIou,
    dtIgnore: match.dtIgnore,
  };
}
