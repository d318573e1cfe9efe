import { describe, expect, it } from 'vitest';
import { prefetchInOrder } from '../src/index.js';
import type { PatchBatch } from '../src/types.js';

/** A batch whose one label is its index, ready after `delayMs`. */
const batchAfter = (index: number, delayMs: number) =>
  new Promise<PatchBatch>((resolve) =>
    setTimeout(
      () =>
        resolve({
          patches: new Float32Array(0),
          maskTargets: new Float32Array(0),
          labels: Float32Array.of(index),
          heads: 'joint',
          samples: [],
        }),
      delayMs,
    ),
  );

describe('prefetchInOrder', () => {
  it('yields the batches in index order when they finish out of order, depth at a time', async () => {
    const asked: number[] = [];
    // Even batches take longer than the odd ones after them.
    const batches = prefetchInOrder(
      (index) => {
        asked.push(index);
        return batchAfter(index, index % 2 === 0 ? 30 : 1);
      },
      5,
      3,
    );
    const labels: number[] = [];
    for (let i = 0; i < 4; i++) labels.push((await batches.next()).value.labels[0]);
    await batches.return(undefined as never);
    expect(labels).toEqual([5, 6, 7, 8]);
    // Three in preparation before the first was taken, then one more per batch taken.
    expect(asked).toEqual([5, 6, 7, 8, 9, 10]);
  });

  it('surfaces a failed batch when it is awaited, after the ones before it', async () => {
    let unhandled = 0;
    const count = () => unhandled++;
    process.on('unhandledRejection', count);
    try {
      const batches = prefetchInOrder(
        (index) =>
          index === 2 ? Promise.reject(new Error("cannot read image 'b.jpg'")) : batchAfter(index, 20),
        0,
        3,
      );
      expect((await batches.next()).value.labels[0]).toBe(0);
      expect((await batches.next()).value.labels[0]).toBe(1);
      await expect(batches.next()).rejects.toThrow("cannot read image 'b.jpg'");
      await new Promise((resolve) => setTimeout(resolve, 10));
      expect(unhandled).toBe(0);
    } finally {
      process.off('unhandledRejection', count);
    }
  });

  it('names a bad start index or depth', async () => {
    const never = () => batchAfter(0, 0);
    await expect(prefetchInOrder(never, -1).next()).rejects.toThrow(
      'sampling: prefetch fromIndex must be a non-negative integer, got -1',
    );
    await expect(prefetchInOrder(never, 0, 0).next()).rejects.toThrow(
      'sampling: prefetch depth must be >= 1, got 0',
    );
  });
});
