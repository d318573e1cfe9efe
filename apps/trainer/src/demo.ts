import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createDeepMask, type DeepMaskConfig, defaultConfig } from '@deepmask/model';
import { loadCocoData } from './coco-data.js';
import { inferImage } from './commands/infer.js';
import { writeDemoDataset } from './demo-data.js';
import { TrainerError } from './errors.js';
import { type CocoEvalJson, type EvaluationReport, evaluateModel, imageFileName } from './evaluation.js';
import { openModel } from './model-path.js';
import type { ProgressReporter } from './progress.js';
import { type RunPaths, runPaths } from './run-folder.js';
import { runTraining, type TrainOptions, type TrainResult, type TrainSession } from './train.js';

/** The demo's model: the 'tiny' trunk, sized to learn the synthetic shapes in minutes on two cores. */
export const DEMO_MODEL: Partial<DeepMaskConfig> = { dropoutRate: 0.1 };

export interface DemoOptions {
  out: string;
  minutes?: number;
  maxSteps?: number;
  trainImages: number;
  valImages: number;
  seed: number;
  batchSize: number;
  batchMode: 'mixed' | 'alternating';
  lr: number;
  lrSchedule: TrainOptions['lrSchedule'];
  epochSteps: number;
  momentum: number;
  lambda: number;
  weightDecay: number;
  /** Data-parallel worker threads (see `TrainOptions.replicas`). */
  replicas?: number;
  /** Worker threads composing the batches (see `TrainOptions.samplerThreads`). */
  samplerThreads?: number;
  /** Evaluate the untrained model too (the demo's baseline). */
  compareUntrained: boolean;
}

export interface DemoResult {
  paths: RunPaths;
  training: TrainResult;
  dataDir: string;
  untrained?: { segm: CocoEvalJson; bbox: CocoEvalJson };
  trained: { segm: CocoEvalJson; bbox: CocoEvalJson };
  overlayPng: string;
  proposalsJson: string;
}

/**
 * The embedded demo: a synthetic COCO-format dataset in `out/data`, a tiny model trained on it (the same
 * code path as real data), its validation AR against the untrained model's, and an overlay PNG.
 */
export async function runDemo(
  options: DemoOptions,
  session: TrainSession & { progress: ProgressReporter },
): Promise<DemoResult> {
  const paths = runPaths(options.out);
  if (existsSync(paths.checkpoint))
    throw new TrainerError(`--out: '${paths.root}' already holds a run; choose another --out`);
  const { progress } = session;
  const dataDir = join(paths.root, 'data');
  progress.log(`writing the synthetic dataset to ${dataDir}`);
  const data = await writeDemoDataset(dataDir, {
    trainImages: options.trainImages,
    valImages: options.valImages,
    seed: options.seed,
    minSizePx: 112,
    maxSizePx: 176,
    minObjectPx: 20,
    maxObjectPx: 96,
  });
  const val = await loadCocoData(data.val.dir, data.val.ann);
  const valIds = val.json.images.map((image) => image.id);
  const modelConfig = defaultConfig('tiny', DEMO_MODEL);
  let untrained: EvaluationReport | undefined;
  if (options.compareUntrained) {
    const initial = createDeepMask(modelConfig, { seed: options.seed });
    untrained = await evaluateModel(initial, val, valIds, {
      topN: 1000,
      onImage: (done, total) => progress.count('untrained model: image', done, total),
    });
    initial.dispose();
  }
  const training = await runTraining(
    {
      data: data.train.dir,
      ann: data.train.ann,
      valData: data.val.dir,
      valAnn: data.val.ann,
      trunk: 'tiny',
      model: DEMO_MODEL,
      out: paths.root,
      resume: false,
      maxMinutes: options.minutes,
      maxSteps: options.maxSteps,
      batchSize: options.batchSize,
      batchMode: options.batchMode,
      lr: options.lr,
      lrSchedule: options.lrSchedule,
      epochSteps: options.epochSteps,
      momentum: options.momentum,
      lambda: options.lambda,
      weightDecay: options.weightDecay,
      evalEvery: 0,
      evalImages: valIds.length,
      evalTopN: 1000,
      checkpointEvery: 100,
      seed: options.seed,
      replicas: options.replicas,
      samplerThreads: options.samplerThreads,
    },
    session,
  );
  const trained = JSON.parse(
    await readFile(join(paths.eval, 'val-eval.json'), 'utf8'),
  ) as DemoResult['trained'];
  const { model } = await openModel(paths.root);
  const firstVal = join(data.val.dir, imageFileName(val, valIds[0]));
  const overlay = await inferImage(model, firstVal, join(paths.root, 'infer'), 100, 8);
  model.dispose();
  return {
    paths,
    training,
    dataDir,
    untrained: untrained && { segm: untrained.segm, bbox: untrained.bbox },
    trained,
    overlayPng: overlay.overlayPng,
    proposalsJson: overlay.proposalsJson,
  };
}
