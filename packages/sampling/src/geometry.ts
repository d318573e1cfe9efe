import type { Box } from '@deepmask/coco';
import type { SamplingConfig } from './config.js';
import type { Random } from './random.js';

/**
 * Where a patch is cut from: patch pixel coordinate u (0..iSz, continuous) lies at image x =
 * centreX + (flipped ? -1 : 1) * (u - iSz / 2) / scale, and v at y = centreY + (v - iSz / 2) / scale.
 */
export interface PatchPlacement {
  centreX: number;
  centreY: number;
  /** Patch pixels per image pixel. */
  scale: number;
  flipped: boolean;
}

export type PlacementRules = Pick<
  SamplingConfig,
  | 'canonicalSizePx'
  | 'jitterPx'
  | 'scaleJitterLog2'
  | 'negativeOffsetPx'
  | 'negativeScaleLog2'
  | 'negativeWindowLog2'
  | 'flipProbability'
  | 'inputSizePx'
>;

/** Image x of patch coordinate u (see `PatchPlacement`). */
export function patchToImageX(placement: PatchPlacement, inputSizePx: number, u: number): number {
  return placement.centreX + ((placement.flipped ? -1 : 1) * (u - inputSizePx / 2)) / placement.scale;
}

/** Image y of patch coordinate v. */
export function patchToImageY(placement: PatchPlacement, inputSizePx: number, v: number): number {
  return placement.centreY + (v - inputSizePx / 2) / placement.scale;
}

/** The object centre of the paper: the centre of its box. */
function objectCentre(box: Box): [number, number] {
  return [box[0] + box[2] / 2, box[1] + box[3] / 2];
}

/**
 * A positive for the object in `box`: its centre at the patch centre, its larger side at the canonical
 * size, then moved by up to +-jitterPx per axis and scaled by 2^(+-scaleJitterLog2), mirrored with
 * probability flipProbability.
 */
export function positivePlacement(box: Box, rules: PlacementRules, random: Random): PatchPlacement {
  const scaleLog2 = random.uniform(-rules.scaleJitterLog2, rules.scaleJitterLog2);
  const scale = (rules.canonicalSizePx / Math.max(box[2], box[3])) * 2 ** scaleLog2;
  const offsetX = random.uniform(-rules.jitterPx, rules.jitterPx);
  const offsetY = random.uniform(-rules.jitterPx, rules.jitterPx);
  const [x, y] = objectCentre(box);
  // The object centre lands `offset` patch pixels from the patch centre (mirroring keeps |offset|).
  return {
    centreX: x - offsetX / scale,
    centreY: y - offsetY / scale,
    scale,
    flipped: random.chance(rules.flipProbability),
  };
}

/** Distance of the object centre from the patch centre, in patch pixels: the larger of |dx| and |dy|. */
function centreOffsetPx(placement: PatchPlacement, box: Box): number {
  const [x, y] = objectCentre(box);
  return Math.max(Math.abs(x - placement.centreX), Math.abs(y - placement.centreY)) * placement.scale;
}

/** |log2| of the object's larger side in the patch over the canonical size (Infinity for an empty box). */
function scaleOffsetLog2(placement: PatchPlacement, box: Box, canonicalSizePx: number): number {
  return Math.abs(Math.log2((Math.max(box[2], box[3]) * placement.scale) / canonicalSizePx));
}

/** The negative rule: against every box, off centre by negativeOffsetPx or off scale by 2^negativeScaleLog2. */
export function isNegativeFor(
  placement: PatchPlacement,
  boxes: readonly Box[],
  rules: PlacementRules,
): boolean {
  return boxes.every(
    (box) =>
      centreOffsetPx(placement, box) >= rules.negativeOffsetPx ||
      scaleOffsetLog2(placement, box, rules.canonicalSizePx) >= rules.negativeScaleLog2,
  );
}

const NEGATIVE_TRIES_PER_IMAGE = 25;

/**
 * A negative in an image of `width` x `height` with objects `boxes`: a window of side
 * max(width, height) * 2^u (u uniform in negativeWindowLog2) centred uniformly over the image, drawn
 * again until it passes the negative rule; null when no try does (a crowded image).
 */
export function negativePlacement(
  width: number,
  height: number,
  boxes: readonly Box[],
  rules: PlacementRules,
  random: Random,
): PatchPlacement | null {
  const [low, high] = rules.negativeWindowLog2;
  for (let attempt = 0; attempt < NEGATIVE_TRIES_PER_IMAGE; attempt++) {
    const windowPx = Math.max(width, height) * 2 ** random.uniform(low, high);
    const placement = {
      centreX: random.uniform(0, width),
      centreY: random.uniform(0, height),
      scale: rules.inputSizePx / windowPx,
      flipped: random.chance(rules.flipProbability),
    };
    if (isNegativeFor(placement, boxes, rules)) return placement;
  }
  return null;
}
