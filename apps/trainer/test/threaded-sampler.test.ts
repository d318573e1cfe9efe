import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { createSampler, type PatchBatch, type SamplingConfigInput } from '@deepmask/sampling';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadCocoData } from '../src/coco-data.js';
import { TrainerError } from '../src/errors.js';
import { openTrainingBatches, type TrainingBatches } from '../src/threaded-sampler.js';
import { smallDataset } from './fixtures.js';

let fixture: Awaited<ReturnType<typeof smallDataset>>;
beforeAll(async () => {
  fixture = await smallDataset();
});
afterAll(() => rmSync(fixture.root, { recursive: true, force: true }));

const CONFIG: SamplingConfigInput = {
  inputSizePx: 32,
  maskSizePx: 8,
  batchSize: 6,
  batchMode: 'alternating',
};
const SEED = 11;
const splitOf = (data: { train: { dir: string; ann: string } }) => ({
  data: data.train.dir,
  ann: data.train.ann,
});

async function take(batches: AsyncIterable<PatchBatch>, count: number): Promise<PatchBatch[]> {
  const taken: PatchBatch[] = [];
  for await (const batch of batches) {
    taken.push(batch);
    if (taken.length === count) break;
  }
  return taken;
}

describe('training batches in sampler threads', () => {
  it('are the batches of the sampler in this thread, from any index, with 1 or 2 threads', async () => {
    const train = await loadCocoData(fixture.data.train.dir, fixture.data.train.ann);
    const here = createSampler({ ...train, config: CONFIG, seed: SEED });
    const expected = await Promise.all([5, 6, 7, 8, 9].map((i) => here.batch(i)));
    for (const threads of [0, 1, 2]) {
      const batches = await openTrainingBatches(splitOf(fixture.data), threads);
      try {
        const got = await take(batches.sample(CONFIG, SEED).prefetch(5), 5);
        expect(got.map((b) => b.heads)).toEqual(['score', 'mask', 'score', 'mask', 'score']);
        expect(got).toEqual(expected);
      } finally {
        await batches.stop();
      }
    }
  });

  it('name the flag and file of a training split that cannot be loaded', async () => {
    const missing = join(fixture.root, 'missing.json');
    await expect(openTrainingBatches({ data: fixture.data.train.dir, ann: missing }, 1)).rejects.toThrow(
      new TrainerError(`--ann: cannot read '${missing}' (ENOENT)`),
    );
    const nowhere = join(fixture.root, 'nowhere');
    await expect(openTrainingBatches({ data: nowhere, ann: fixture.data.train.ann }, 2)).rejects.toThrow(
      new TrainerError(`--data: '${nowhere}' is not a directory`),
    );
    await expect(openTrainingBatches(splitOf(fixture.data), -1)).rejects.toThrow(
      '--sampler-threads: expected an integer >= 0, got -1',
    );
  });

  it('fail the batches asked of a stopped thread instead of waiting for them', async () => {
    const batches = await openTrainingBatches(splitOf(fixture.data), 1);
    const iterator = batches.sample(CONFIG, SEED).prefetch(0)[Symbol.asyncIterator]();
    expect((await iterator.next()).value.labels).toHaveLength(6);
    await batches.stop();
    // Batches that arrived before the thread stopped may still come (at most the DEPTH in preparation);
    // then the iteration fails, and ends.
    let failure = '';
    for (let i = 0; i < 4 && failure === ''; i++) {
      failure = await iterator.next().then(
        ({ done }) => (done ? 'ended without an error' : ''),
        (error: Error) => error.message,
      );
    }
    expect(failure).toMatch(/^sampling thread stopped \(exit code \d+\)$/);
  });

  it('surface a batch that fails with its file name, in order after the batches before it', async () => {
    const { root, data } = await smallDataset();
    let batches: TrainingBatches | undefined;
    try {
      batches = await openTrainingBatches(splitOf(data), 1);
      rmSync(join(data.train.dir, '000003.jpg'));
      const iterator = batches
        .sample({ ...CONFIG, batchSize: 32 }, SEED)
        .prefetch(0)
        [Symbol.asyncIterator]();
      // 32 draws from 8 images: the first batch needs every image, the missing one too.
      await expect(iterator.next()).rejects.toThrow(
        `cannot read image '${join(data.train.dir, '000003.jpg')}'`,
      );
    } finally {
      await batches?.stop();
      rmSync(root, { recursive: true, force: true });
    }
  });
});
