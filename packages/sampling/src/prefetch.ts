import { assertIndex } from './assert-index.js';
import type { PatchBatch } from './types.js';

/**
 * Batches `fromIndex`, `fromIndex + 1`, ... of `batchAt` in order, with `depth` of them in preparation at
 * any time: what `PatchSampler.prefetch` does with its own batches, for any source of indexed batches (a
 * sampler in a worker thread).
 */
export async function* prefetchInOrder(
  batchAt: (index: number) => Promise<PatchBatch>,
  fromIndex = 0,
  depth = 2,
): AsyncGenerator<PatchBatch, never, undefined> {
  assertIndex(fromIndex, 'prefetch fromIndex');
  if (!Number.isInteger(depth) || depth < 1) {
    throw new RangeError(`sampling: prefetch depth must be >= 1, got ${depth}`);
  }
  const queue: Promise<PatchBatch>[] = [];
  let next = fromIndex;
  while (true) {
    while (queue.length < depth) {
      const pending = batchAt(next++);
      // A failure surfaces when its batch is awaited, in order, not as an unhandled rejection before.
      pending.catch(() => {});
      queue.push(pending);
    }
    yield await queue.shift()!;
  }
}
