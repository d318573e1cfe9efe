/**
 * Batches of 32 patches per second from coco-mini (decode cache cold and warm), side by side with the
 * training step rate of the model they feed (tiny and mobilenet-v1 on wasm), all in one run.
 * Usage: pnpm --filter @deepmask/sampling bench [-- --quick]
 */
import { existsSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { CocoDataset } from '@deepmask/coco';
import { createSampler, type PatchSampler, type SamplingConfigInput } from '@deepmask/sampling';
import { directorySource, sharpDecoder } from '@deepmask/sampling/node';
import { measureTrainingSteps, type TrainingRate } from './train-step.js';

const quick = process.argv.includes('--quick');
const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const shared = process.env.DEEPMASK_SHARED ?? path.resolve(repoRoot, '../shared');
const cocoMini = path.join(shared, 'data/coco-mini');
const annotations = path.join(cocoMini, 'annotations/instances_train2017.json');
if (!existsSync(annotations)) {
  console.log(`sampling bench skipped: no ${annotations} (set DEEPMASK_SHARED)`);
  console.log(JSON.stringify({ bench: 'sampling', skipped: `no ${annotations}` }));
  process.exit(0);
}
const dataset = CocoDataset.fromJson(readFileSync(annotations, 'utf8'), 'instances_train2017.json');

/** mobilenet-v1 trains on batches of 8 here: 32 patches of 224 px overflow the wasm heap. */
const MODELS = [
  { trunk: 'tiny', inputSizePx: 64, maskSizePx: 16, trainBatchSize: 32, trainSteps: quick ? 5 : 20 },
  { trunk: 'mobilenet-v1', inputSizePx: 224, maskSizePx: 56, trainBatchSize: 8, trainSteps: quick ? 1 : 2 },
] as const;

function sampler(config: SamplingConfigInput, cacheBytes: number): PatchSampler {
  return createSampler({
    dataset,
    images: directorySource(path.join(cocoMini, 'train2017')),
    decoder: sharpDecoder(),
    // The mean colour is fixed so that a cold run times patches, not a one-off mean estimate.
    config: { batchSize: 32, ...config, cacheBytes, meanColour: [118, 110, 96] },
    seed: 1,
  });
}

/** Batches per second over `count` batches from `from`, one after another, or through prefetch. */
async function batchesPerSecond(
  s: PatchSampler,
  from: number,
  count: number,
  prefetchDepth = 0,
): Promise<number> {
  const start = performance.now();
  if (prefetchDepth === 0) {
    for (let i = from; i < from + count; i++) await s.batch(i);
  } else {
    let taken = 0;
    for await (const _ of s.prefetch(from, prefetchDepth)) if (++taken === count) break;
  }
  return count / ((performance.now() - start) / 1000);
}

interface Row {
  trunk: string;
  inputSizePx: number;
  coldBatchesPerS: number;
  warmBatchesPerS: number;
  warmPrefetchBatchesPerS: number;
  training: TrainingRate | null;
  /** Training steps per second scaled to batches of 32 patches. */
  trainBatchesOf32PerS: number | null;
}

const rows: Row[] = [];
for (const model of MODELS) {
  const config = { inputSizePx: model.inputSizePx, maskSizePx: model.maskSizePx };
  const batches = quick ? 8 : 30;
  // Cold: a cache too small to keep anything, so every patch reads and decodes its image.
  const cold = sampler(config, 1);
  await cold.batch(10_000); // JIT warm-up, not timed
  const coldBatchesPerS = await batchesPerSecond(cold, 0, batches);
  // Warm: the same batches again, every image they need already decoded.
  const warm = sampler(config, 2 ** 30);
  await batchesPerSecond(warm, 0, batches);
  const warmBatchesPerS = await batchesPerSecond(warm, 0, batches);
  const warmPrefetchBatchesPerS = await batchesPerSecond(warm, 0, batches, 2);
  const trainSampler = sampler({ ...config, batchSize: model.trainBatchSize }, 2 ** 30);
  // The prefetch comparison needs warm images for the steps it takes: warm them first.
  await batchesPerSecond(trainSampler, 0, model.trainSteps);
  const training = await measureTrainingSteps(
    model.trunk,
    trainSampler,
    model.trainSteps,
    model.trunk === 'tiny',
  );
  const trainBatchesOf32PerS = training ? (training.stepsPerS * training.batchSize) / 32 : null;
  rows.push({
    trunk: model.trunk,
    inputSizePx: model.inputSizePx,
    coldBatchesPerS,
    warmBatchesPerS,
    warmPrefetchBatchesPerS,
    training,
    trainBatchesOf32PerS,
  });
}

const fmt = (x: number | null | undefined, digits = 2) =>
  x === null || x === undefined ? '-' : x.toFixed(digits);
const machine = `${os.cpus().length} x ${os.cpus()[0]?.model.trim()}, node ${process.version}`;
console.log(`\n@deepmask/sampling: batches of 32 patches per second on coco-mini train (${machine})\n`);
console.log(
  '| model (iSz) | sampling cold | sampling warm | warm, prefetch | training (wasm), batches of 32 per s | warm / training | cold / training |',
);
console.log('| --- | --- | --- | --- | --- | --- | --- |');
for (const r of rows) {
  const train = r.trainBatchesOf32PerS;
  const ratio = (x: number) => (train === null ? '-' : `${(x / train).toFixed(1)}x`);
  const trainText =
    r.training === null
      ? '- (model or loss missing)'
      : `${fmt(train, 3)}${r.training.batchSize === 32 ? '' : ` (${r.training.batchSize} a step, scaled)`}`;
  console.log(
    `| ${r.trunk} (${r.inputSizePx}) | ${fmt(r.coldBatchesPerS)} | ${fmt(r.warmBatchesPerS)} | ` +
      `${fmt(r.warmPrefetchBatchesPerS)} | ${trainText} | ${ratio(r.warmBatchesPerS)} | ${ratio(r.coldBatchesPerS)} |`,
  );
}
for (const r of rows) {
  if (r.training?.prefetchedStepsPerS) {
    console.log(
      `\n${r.trunk}: training fed by prefetch(0, 2) runs at ${fmt(r.training.prefetchedStepsPerS)} steps/s ` +
        `vs ${fmt(r.training.stepsPerS)} on a fixed batch ` +
        `(${((r.training.prefetchedStepsPerS / r.training.stepsPerS) * 100).toFixed(0)}%; cropping shares the JS thread).`,
    );
  }
}
console.log(
  JSON.stringify({
    bench: 'sampling',
    machine,
    batchSize: 32,
    quick,
    rows: rows.map((r) => ({
      ...r,
      warmOverTraining: r.trainBatchesOf32PerS ? r.warmBatchesPerS / r.trainBatchesOf32PerS : null,
      coldOverTraining: r.trainBatchesOf32PerS ? r.coldBatchesPerS / r.trainBatchesOf32PerS : null,
    })),
  }),
);
