import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type DemoDataset, writeDemoDataset } from '../src/demo-data.js';
import type { TrainOptions } from '../src/train.js';

/** A small synthetic COCO folder shared by the tests of one file. */
export async function smallDataset(): Promise<{ root: string; data: DemoDataset }> {
  const root = mkdtempSync(join(tmpdir(), 'deepmask-trainer-'));
  const data = await writeDemoDataset(join(root, 'data'), {
    trainImages: 8,
    valImages: 2,
    seed: 3,
    minSizePx: 96,
    maxSizePx: 128,
    minObjectPx: 24,
    maxObjectPx: 80,
  });
  return { root, data };
}

/** Training options of a tiny, fast run (no evaluation unless `valAnn` is set). */
export function tinyRun(data: DemoDataset, out: string, overrides: Partial<TrainOptions> = {}): TrainOptions {
  return {
    data: data.train.dir,
    ann: data.train.ann,
    trunk: 'tiny',
    model: { trunkWidths: [4, 8, 8, 8], reducedChannels: 8, embeddingSize: 16, scoreHiddenSizes: [16, 16] },
    out,
    resume: false,
    maxSteps: 4,
    batchSize: 4,
    batchMode: 'mixed',
    lr: 0.01,
    lrSchedule: 'constant',
    epochSteps: 4000,
    momentum: 0.9,
    lambda: 1 / 32,
    weightDecay: 5e-4,
    evalEvery: 0,
    evalImages: 2,
    evalTopN: 100,
    checkpointEvery: 2,
    seed: 7,
    ...overrides,
  };
}
