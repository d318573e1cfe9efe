import type { CocoDataset } from './dataset.js';
import { boxIouPair, maskFacts, maskIouFast } from './iou.js';
import type { EvalDt, EvalGt } from './match.js';
import type { EvalParams } from './params.js';
import type { Detection } from './results.js';
import { decodeCountsInto } from './rle-string.js';

/** The gts and detections of one (image, category) pair, or of one image in class-agnostic mode. */
export interface Pool {
  imageId: number;
  categoryId: number;
  /** Pool order: file order within a category, categories ascending when pooled across them. */
  gts: EvalGt[];
  /** Descending score (stable), cut to the largest maxDet. */
  dts: EvalDt[];
  /** [D, G] IoU, gts in pool order. */
  ious: Float64Array;
  /** [D] best IoU of each detection over the pool's gts. */
  dtMaxIou: Float64Array;
}

/**
 * COCOeval `_prepare` + `computeIoU`: groups objects by (image, category) in file order, drops detections
 * of categories the ground truth does not have, and fills each pool's IoU matrix.
 * Returns pools[k][i] for category k and image i of `params`, null where a pool is empty.
 */
export function buildPools(
  gt: CocoDataset,
  detections: readonly Detection[],
  params: EvalParams,
): (Pool | null)[][] {
  const categoryIndex = new Map(gt.categoryIds.map((id, k) => [id, k]));
  const imageIndex = new Map(params.imgIds.map((id, i) => [id, i]));
  const K = gt.categoryIds.length;
  const groupGts = new Map<number, EvalGt[]>();
  const groupDts = new Map<number, EvalDt[]>();
  const push = <T>(groups: Map<number, T[]>, key: number, item: T) => {
    const group = groups.get(key);
    if (group) group.push(item);
    else groups.set(key, [item]);
  };
  const segm = params.iouType === 'segm';
  for (const a of gt.annotations) {
    const k = categoryIndex.get(a.category_id)!;
    const mask = segm ? maskFacts(gt.annotationRle(a)) : undefined;
    const item: EvalGt = { id: a.id, area: a.area, crowd: a.iscrowd === 1, bbox: a.bbox, mask };
    push(groupGts, imageIndex.get(a.image_id)! * K + k, item);
  }
  for (const d of detections) {
    const k = categoryIndex.get(d.categoryId);
    if (k === undefined) continue;
    push(groupDts, imageIndex.get(d.imageId)! * K + k, d);
  }
  const maxDet = params.maxDets[params.maxDets.length - 1];
  const pools: (Pool | null)[][] = params.catIds.map(() => []);
  for (let i = 0; i < params.imgIds.length; i++) {
    for (let k = 0; k < params.catIds.length; k++) {
      let gts: EvalGt[];
      let dts: EvalDt[];
      if (params.useCats) {
        gts = groupGts.get(i * K + k) ?? [];
        dts = groupDts.get(i * K + k) ?? [];
      } else {
        gts = [];
        dts = [];
        for (let c = 0; c < K; c++) {
          for (const g of groupGts.get(i * K + c) ?? []) gts.push(g);
          for (const d of groupDts.get(i * K + c) ?? []) dts.push(d);
        }
      }
      if (gts.length === 0 && dts.length === 0) {
        pools[k].push(null);
        continue;
      }
      dts = sortByScore(dts).slice(0, maxDet);
      const { ious, dtMaxIou } = segm ? maskIous(dts, gts) : boxIous(dts, gts);
      pools[k].push({ imageId: params.imgIds[i], categoryId: params.catIds[k], gts, dts, ious, dtMaxIou });
    }
  }
  return pools;
}

/** np.argsort(-score, kind='mergesort'): descending, ties keep their order. */
function sortByScore<T extends { score: number }>(items: T[]): T[] {
  const order = items.map((_, i) => i);
  order.sort((a, b) => items[b].score - items[a].score || a - b);
  return order.map((i) => items[i]);
}

function boxIous(dts: readonly EvalDt[], gts: readonly EvalGt[]) {
  const G = gts.length;
  // monomorphic Float64Array boxes keep boxIouPair fast
  const gtBoxes = gts.map((g) => Float64Array.from(g.bbox as ArrayLike<number>));
  const dtBox = new Float64Array(4);
  const ious = new Float64Array(dts.length * G);
  const dtMaxIou = new Float64Array(dts.length).fill(-Infinity);
  for (let d = 0; d < dts.length; d++) {
    dtBox.set(dts[d].bbox as ArrayLike<number>);
    for (let g = 0; g < G; g++) {
      const iou = boxIouPair(dtBox, gtBoxes[g], gts[g].crowd);
      ious[d * G + g] = iou;
      if (iou > dtMaxIou[d]) dtMaxIou[d] = iou;
    }
  }
  return { ious, dtMaxIou };
}

function maskIous(dts: readonly EvalDt[], gts: readonly EvalGt[]) {
  const G = gts.length;
  const ious = new Float64Array(dts.length * G);
  const dtMaxIou = new Float64Array(dts.length).fill(-Infinity);
  const gtCounts = gts.map((g) => g.mask!.counts!);
  let scratch = new Uint32Array(0);
  for (let d = 0; d < dts.length; d++) {
    const dt = dts[d].mask!;
    let counts = dt.counts;
    for (let g = 0; g < G; g++) {
      const gt = gts[g].mask!;
      let iou = 0;
      if (boxIouPair(dt.box, gt.box, gts[g].crowd) > 0) {
        if (!counts) {
          const encoded = dt.encoded!;
          if (scratch.length < encoded.length) scratch = new Uint32Array(2 * encoded.length);
          decodeCountsInto(encoded, scratch);
          counts = scratch;
        }
        iou = maskIouFast(dt, counts, gt, gtCounts[g], gts[g].crowd);
      }
      ious[d * G + g] = iou;
      if (iou > dtMaxIou[d]) dtMaxIou[d] = iou;
    }
  }
  return { ious, dtMaxIou };
}
