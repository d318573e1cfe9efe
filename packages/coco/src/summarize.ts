import type { Accumulated } from './accumulate.js';
import { numpyMean } from './numpy-mean.js';
import type { EvalParams } from './params.js';

export const STAT_NAMES = [
  'AP',
  'AP50',
  'AP75',
  'AP_small',
  'AP_medium',
  'AP_large',
  'AR@1',
  'AR@10',
  'AR@100',
  'AR_small@100',
  'AR_medium@100',
  'AR_large@100',
] as const;

interface Selection {
  ap: boolean;
  iouThr?: number;
  area?: string;
  maxDet: number;
  categoryIndex?: number;
}

/** COCOeval._summarize: mean of the entries > -1 in the selection, -1 when there are none. */
export function summarizeValue(
  { precision, recall }: Accumulated,
  params: EvalParams,
  sel: Selection,
): number {
  const T = params.iouThrs.length;
  const R = params.recThrs.length;
  const K = params.catIds.length;
  const A = params.areaRanges.length;
  const M = params.maxDets.length;
  const areaIndex = params.areaRanges.findIndex((a) => a.label === (sel.area ?? 'all'));
  const maxDetIndices = params.maxDets.flatMap((m, i) => (m === sel.maxDet ? [i] : []));
  const values: number[] = [];
  if (areaIndex >= 0) {
    for (let t = 0; t < T; t++) {
      if (sel.iouThr !== undefined && params.iouThrs[t] !== sel.iouThr) continue;
      for (let r = 0; r < (sel.ap ? R : 1); r++) {
        for (let k = 0; k < K; k++) {
          if (sel.categoryIndex !== undefined && k !== sel.categoryIndex) continue;
          for (const m of maxDetIndices) {
            const v = sel.ap
              ? precision[(((t * R + r) * K + k) * A + areaIndex) * M + m]
              : recall[((t * K + k) * A + areaIndex) * M + m];
            if (v > -1) values.push(v);
          }
        }
      }
    }
  }
  return values.length === 0 ? -1 : numpyMean(values);
}

/** The 12 numbers of COCOeval.summarize for detection, in its order. */
export function summarizeStats(acc: Accumulated, params: EvalParams): number[] {
  const [m0, m1, m2] = params.maxDets;
  const s = (sel: Selection) => summarizeValue(acc, params, sel);
  return [
    s({ ap: true, maxDet: 100 }),
    s({ ap: true, iouThr: 0.5, maxDet: m2 }),
    s({ ap: true, iouThr: 0.75, maxDet: m2 }),
    s({ ap: true, area: 'small', maxDet: m2 }),
    s({ ap: true, area: 'medium', maxDet: m2 }),
    s({ ap: true, area: 'large', maxDet: m2 }),
    s({ ap: false, maxDet: m0 }),
    s({ ap: false, maxDet: m1 }),
    s({ ap: false, maxDet: m2 }),
    s({ ap: false, area: 'small', maxDet: m2 }),
    s({ ap: false, area: 'medium', maxDet: m2 }),
    s({ ap: false, area: 'large', maxDet: m2 }),
  ];
}

/** AR@N and AR_small/medium/large@N for every N in maxDets, then AP@N (area all, all thresholds). */
export function summarizeExtra(acc: Accumulated, params: EvalParams): Record<string, number> {
  const extra: Record<string, number> = {};
  for (const maxDet of params.maxDets) {
    extra[`AR@${maxDet}`] = summarizeValue(acc, params, { ap: false, maxDet });
    for (const area of ['small', 'medium', 'large']) {
      extra[`AR_${area}@${maxDet}`] = summarizeValue(acc, params, { ap: false, area, maxDet });
    }
  }
  for (const maxDet of params.maxDets)
    extra[`AP@${maxDet}`] = summarizeValue(acc, params, { ap: true, maxDet });
  return extra;
}
