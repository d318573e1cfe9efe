import type { ScaleBatching } from './types.js';

export const DEFAULT_SCALE_BATCHING: ScaleBatching = { maxPixels: 1_000_000, maxPaddingFraction: 0.3 };

/**
 * Groups scales into forward passes. Sizes are the padded `[height, width]` of each scale; a group
 * runs as one batch zero-padded to its largest height and width. Scales are taken largest first and
 * a scale joins the current group while the batch stays within `maxPixels` (batch size x common
 * height x width) and its padding stays within `maxPaddingFraction` of those pixels; a scale that
 * alone exceeds the budget runs alone. Returns groups of indices into `sizes`.
 */
export function planScaleBatches(
  sizes: readonly (readonly [number, number])[],
  batching: ScaleBatching,
): number[][] {
  const order = sizes.map((_, k) => k).sort((a, b) => area(sizes[b]) - area(sizes[a]) || a - b);
  if (batching === false) return order.map((k) => [k]);
  const groups: number[][] = [];
  for (const k of order) {
    const group = groups[groups.length - 1];
    if (group && fits([...group, k], sizes, batching)) group.push(k);
    else groups.push([k]);
  }
  return groups;
}

/** Pixels of the common size of `group` times its batch size. */
export function batchPixels(group: readonly number[], sizes: readonly (readonly [number, number])[]): number {
  const height = Math.max(...group.map((k) => sizes[k][0]));
  const width = Math.max(...group.map((k) => sizes[k][1]));
  return group.length * height * width;
}

function fits(
  group: number[],
  sizes: readonly (readonly [number, number])[],
  batching: Exclude<ScaleBatching, false>,
) {
  const pixels = batchPixels(group, sizes);
  const own = group.reduce((sum, k) => sum + area(sizes[k]), 0);
  return pixels <= batching.maxPixels && pixels - own <= batching.maxPaddingFraction * pixels;
}

function area([height, width]: readonly [number, number]): number {
  return height * width;
}
