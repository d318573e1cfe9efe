import { rleToCocoJson } from '@deepmask/coco';
import { pasteMaskLogits, probabilityToLogit } from './paste.js';
import type { Proposal } from './types.js';

/** COCO results JSON of `proposals`: class-agnostic (category 1), compressed RLE segmentations. */
export function toCocoResults(proposals: readonly Proposal[], imageId: number) {
  return proposals.map((p) => ({
    image_id: imageId,
    category_id: 1,
    segmentation: rleToCocoJson(p.rle),
    bbox: [...p.bbox] as [number, number, number, number],
    score: p.score,
  }));
}

/** Re-thresholds the kept mask logits of `proposal` (needs `keepMaskLogits`) at probability `threshold`. */
export function pasteMask(proposal: Proposal, threshold: number, height: number, width: number) {
  const logits = proposal.maskLogits;
  if (!logits) {
    throw new Error('pasteMask: proposal has no maskLogits; run proposeMasks with { keepMaskLogits: true }');
  }
  const size = Math.round(Math.sqrt(logits.length));
  return pasteMaskLogits(
    logits,
    size,
    proposal.patchBox,
    probabilityToLogit(threshold, 'threshold'),
    height,
    width,
  );
}
