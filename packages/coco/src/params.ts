import type { CocoDataset } from './dataset.js';

export type IouType = 'segm' | 'bbox';

export interface AreaRange {
  label: string;
  /** [min, max] object area in pixels, both bounds inclusive. */
  range: [number, number];
}

/** COCOeval's `Params` for detection, after `evaluate()` sorted maxDets. */
export interface EvalParams {
  iouType: IouType;
  useCats: boolean;
  imgIds: number[];
  /** The ground truth's category ids ascending; [-1] in class-agnostic mode. */
  catIds: number[];
  iouThrs: number[];
  recThrs: number[];
  areaRanges: AreaRange[];
  maxDets: number[];
}

export const COCO_AREA_RANGES: readonly AreaRange[] = [
  { label: 'all', range: [0, 1e10] },
  { label: 'small', range: [0, 32 ** 2] },
  { label: 'medium', range: [32 ** 2, 96 ** 2] },
  { label: 'large', range: [96 ** 2, 1e10] },
];

export const DETECTION_MAX_DETS: readonly number[] = [1, 10, 100];
/** DeepMask/SharpMask report AR@10/100/1000 for class-agnostic proposals. */
export const PROPOSAL_MAX_DETS: readonly number[] = [1, 10, 100, 1000];

/** `np.linspace(start, stop, num)`: i * step + start, the last one exactly `stop`. */
function linspace(start: number, stop: number, num: number): number[] {
  const step = (stop - start) / (num - 1);
  return Array.from({ length: num }, (_, i) => (i === num - 1 ? stop : i * step + start));
}

export function makeParams(
  gt: CocoDataset,
  options: {
    iouType: IouType;
    useCats?: boolean;
    maxDets?: readonly number[];
    areaRanges?: readonly AreaRange[];
  },
): EvalParams {
  const useCats = options.useCats ?? true;
  const maxDets = [...(options.maxDets ?? (useCats ? DETECTION_MAX_DETS : PROPOSAL_MAX_DETS))].sort(
    (a, b) => a - b,
  );
  if (maxDets.length < 3) {
    throw new RangeError(
      `evaluate: maxDets needs at least 3 values (COCOeval.summarize reads maxDets[2]), got [${maxDets}]`,
    );
  }
  for (const m of maxDets) {
    if (!Number.isInteger(m) || m < 1)
      throw new RangeError(`evaluate: maxDets must be positive integers, got ${m}`);
  }
  if (options.iouType !== 'segm' && options.iouType !== 'bbox') {
    throw new RangeError(
      `evaluate: iouType must be 'segm' or 'bbox', got ${JSON.stringify(options.iouType)}`,
    );
  }
  return {
    iouType: options.iouType,
    useCats,
    imgIds: gt.images.map((image) => image.id).sort((a, b) => a - b),
    catIds: useCats ? [...gt.categoryIds] : [-1],
    iouThrs: linspace(0.5, 0.95, 10),
    recThrs: linspace(0, 1, 101),
    areaRanges: (options.areaRanges ?? COCO_AREA_RANGES).map((a) => ({
      label: a.label,
      range: [a.range[0], a.range[1]],
    })),
    maxDets,
  };
}
