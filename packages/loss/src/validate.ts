import type * as tf from '@tensorflow/tfjs-core';

/** Throws unless `tensor` has `rank`; `name` is the argument as the caller wrote it. */
export function expectRank(fn: string, name: string, tensor: tf.Tensor, rank: number, layout: string): void {
  if (tensor.rank !== rank) {
    throw new Error(`${fn}: ${name} must be rank ${rank} ${layout}, got shape [${tensor.shape.join(', ')}]`);
  }
}

/** Throws unless every named tensor has the same first dimension (the batch size N). */
export function expectSameBatch(fn: string, tensors: Record<string, tf.Tensor | undefined>): number {
  const present = Object.entries(tensors).filter(
    (entry): entry is [string, tf.Tensor] => entry[1] !== undefined,
  );
  const [firstName, first] = present[0];
  for (const [name, tensor] of present) {
    if (tensor.shape[0] !== first.shape[0]) {
      throw new Error(
        `${fn}: batch sizes differ: ${firstName} has shape [${first.shape.join(', ')}] but ${name} has ` +
          `shape [${tensor.shape.join(', ')}]`,
      );
    }
  }
  return first.shape[0];
}

/** Throws unless mask logits [N, oSz, oSz] and mask targets [N, L, L] are square with L >= oSz. */
export function expectMaskShapes(fn: string, maskLogits: tf.Tensor, maskTargets: tf.Tensor): void {
  expectRank(fn, 'maskLogits', maskLogits, 3, '[N, oSz, oSz]');
  expectRank(fn, 'maskTargets', maskTargets, 3, '[N, L, L]');
  const [, oh, ow] = maskLogits.shape;
  const [, lh, lw] = maskTargets.shape;
  if (oh !== ow || lh !== lw || lh < oh) {
    throw new Error(
      `${fn}: maskLogits [N, oSz, oSz] and maskTargets [N, L, L] must be square with L >= oSz, got ` +
        `maskLogits [${maskLogits.shape.join(', ')}] and maskTargets [${maskTargets.shape.join(', ')}]`,
    );
  }
}
