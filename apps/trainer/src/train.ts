import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  createDeepMask,
  type DeepMask,
  type DeepMaskConfig,
  defaultConfig,
  type TrunkName,
} from '@deepmask/model';
import { importMobileNetWeights } from '@deepmask/model/node';
import { readCheckpoint, replaceModel, type TrainingState, writeCheckpoint } from './checkpoint.js';
import { type CocoData, firstImageIds, loadCocoData } from './coco-data.js';
import { TrainerError } from './errors.js';
import { CheckpointHook, ClockHook, EvalHook, MetricsHook, ProgressHook } from './hooks.js';
import { type LoopContext, type StopReason, type TrainingHook, trainLoop } from './loop.js';
import { MetricsLog } from './metrics-log.js';
import { SgdMomentum } from './optimizer.js';
import { ProgressReporter } from './progress.js';
import { routeMathRandom, SeededRandom } from './random.js';
import { ReplicatedSteps } from './replicated-steps.js';
import { type RunPaths, runPaths } from './run-folder.js';
import { type LrSchedule, learningRateAt } from './schedule.js';
import { openTrainingBatches, type TrainingBatches } from './threaded-sampler.js';

/** Everything a training run needs; saved as the run's `config.json`. */
export interface TrainOptions {
  data: string;
  ann: string;
  /** Validation images and annotations; evaluation is skipped without `valAnn`. */
  valData?: string;
  valAnn?: string;
  trunk: TrunkName;
  /** MobileNet v1 ImageNet weights (a tfjs layers `model.json` or its directory). */
  trunkWeights?: string;
  /** Overrides of the trunk's default model config. */
  model?: Partial<DeepMaskConfig>;
  out: string;
  resume: boolean;
  maxSteps?: number;
  maxMinutes?: number;
  batchSize: number;
  batchMode: 'mixed' | 'alternating';
  lr: number;
  lrSchedule: LrSchedule;
  epochSteps: number;
  momentum: number;
  /** Weight of the score term of the joint loss. */
  lambda: number;
  weightDecay: number;
  evalEvery: number;
  evalImages: number;
  evalTopN: number;
  checkpointEvery: number;
  seed: number;
  /**
   * Data-parallel worker threads (wasm on one thread each) sharing every batch; 1 (the default) trains in
   * this thread on the active backend.
   */
  replicas?: number;
  /**
   * Worker threads that compose the training batches (decoding, cropping, mask targets); 0 composes them in
   * this thread between steps. The batches are the same either way. Default 1.
   */
  samplerThreads?: number;
}

export interface TrainSession {
  /** Where to report progress; `false` for silence (tests). */
  progress?: ProgressReporter | false;
  /** Extra hooks run after the built-in ones (tests, embedding applications). */
  hooks?: TrainingHook[];
  /** Set `requested` to stop after the current step with a final checkpoint (the CLI sets it on SIGINT). */
  interrupt?: { requested: boolean };
  /** Test seam: runs between the temporary checkpoint write and its rename. */
  beforeCheckpointCommit?: () => Promise<void> | void;
}

export interface TrainResult {
  paths: RunPaths;
  state: TrainingState;
  reason: StopReason;
  config: DeepMaskConfig;
}

export type CheckpointWriter = (context: LoopContext) => Promise<void>;

/** Trains (or resumes) a DeepMask run in `options.out`; the active tfjs backend is used as is. */
export async function runTraining(options: TrainOptions, session: TrainSession = {}): Promise<TrainResult> {
  const paths = runPaths(options.out);
  const progress =
    session.progress === false
      ? new ProgressReporter(silentStream())
      : (session.progress ?? new ProgressReporter());
  const split = { data: options.data, ann: options.ann };
  const batches = await openTrainingBatches(split, options.samplerThreads ?? 1);
  try {
    return await trainOn(batches, options, session, paths, progress);
  } finally {
    await batches.stop();
  }
}

async function trainOn(
  batches: TrainingBatches,
  options: TrainOptions,
  session: TrainSession,
  paths: RunPaths,
  progress: ProgressReporter,
): Promise<TrainResult> {
  const val = options.valAnn
    ? await loadCocoData(options.valData ?? options.data, options.valAnn, {
        data: 'val-data',
        ann: 'val-ann',
      })
    : undefined;
  const { model, optimizer, state, rng } = await startOrResume(options, paths, progress);
  const log = new MetricsLog(paths.metrics);
  log.truncateAfter(state.step);
  const context: LoopContext = { model, optimizer, state };
  const sampler = batches.sample(
    {
      inputSizePx: model.config.inputSizePx,
      maskSizePx: model.config.maskSizePx,
      batchSize: options.batchSize,
      batchMode: options.batchMode,
    },
    options.seed,
  );
  const deadlineMs = options.maxMinutes === undefined ? undefined : Date.now() + options.maxMinutes * 60_000;
  const writeCheckpointNow: CheckpointWriter = async (ctx) => {
    await ctx.pullReplicas?.();
    ctx.state.rngState = rng.state;
    await writeCheckpoint(
      paths.checkpoint,
      ctx.model,
      ctx.optimizer,
      ctx.state,
      session.beforeCheckpointCommit,
    );
    if (ctx.state.bestAr === undefined) await replaceModel(paths.model, ctx.model);
  };
  const clock = new ClockHook(context);
  const hooks: TrainingHook[] = [
    clock,
    new MetricsHook(log, clock),
    new ProgressHook(progress, clock, { maxSteps: options.maxSteps, deadlineMs }),
    ...(val ? [evalHook(val, options, paths, log, progress)] : []),
    new CheckpointHook(writeCheckpointNow, options.checkpointEvery),
    ...(session.hooks ?? []),
  ];
  const replicated = await startReplicas(options, model, optimizer);
  if (replicated) context.pullReplicas = () => replicated.pull();
  const restoreRandom = routeMathRandom(rng);
  let reason: StopReason;
  try {
    reason = await trainLoop(context, hooks, {
      sampler,
      learningRate: (step) =>
        learningRateAt(step, {
          baseLr: options.lr,
          schedule: options.lrSchedule,
          epochSteps: options.epochSteps,
        }),
      maxSteps: options.maxSteps,
      deadlineMs,
      interrupt: session.interrupt,
      lambda: options.lambda,
      ...(replicated ? { runStep: (batch, lr) => replicated.step(batch, lr, options.lambda) } : {}),
    });
  } finally {
    restoreRandom();
    progress.finish();
    await replicated?.stop();
    optimizer.dispose();
  }
  const config = model.config;
  model.dispose();
  return { paths, state, reason, config };
}

async function startOrResume(options: TrainOptions, paths: RunPaths, progress: ProgressReporter) {
  const checkpoint = options.resume ? await readCheckpoint(paths.checkpoint) : undefined;
  if (options.resume && checkpoint === undefined) {
    throw new TrainerError(`--resume: no checkpoint in '${paths.checkpoint}'`);
  }
  if (!options.resume && existsSync(paths.checkpoint)) {
    throw new TrainerError(
      `--out: '${paths.root}' already holds a run; pass --resume to continue it or choose another --out`,
    );
  }
  await mkdir(paths.root, { recursive: true });
  let model: DeepMask;
  let state: TrainingState;
  if (checkpoint) {
    model = checkpoint.model;
    state = checkpoint.state;
    progress.log(`resuming ${paths.root} at step ${state.step} (from ${checkpoint.dir})`);
  } else {
    model = createDeepMask(defaultConfig(options.trunk, options.model), { seed: options.seed });
    if (options.trunkWeights) await importTrunkWeights(model, options);
    state = { step: 0, samplerIndex: 0, seed: options.seed, elapsedSec: 0, rngState: options.seed };
    await writeFile(
      paths.config,
      `${JSON.stringify({ ...options, resume: undefined, modelConfig: model.config }, null, 2)}\n`,
    );
  }
  const optimizer = new SgdMomentum(model.trainableVariables, {
    momentum: options.momentum,
    weightDecay: options.weightDecay,
  });
  if (checkpoint) optimizer.loadState(checkpoint.optimizer, join(checkpoint.dir, 'optimizer.bin'));
  return { model, optimizer, state, rng: new SeededRandom(state.rngState) };
}

async function startReplicas(
  options: TrainOptions,
  model: DeepMask,
  optimizer: SgdMomentum,
): Promise<ReplicatedSteps | undefined> {
  const replicas = options.replicas ?? 1;
  if (replicas === 1) return undefined;
  if (!(Number.isInteger(replicas) && replicas > 1)) {
    throw new TrainerError(`--replicas: expected an integer >= 1, got ${replicas}`);
  }
  if (options.batchSize < replicas) {
    throw new TrainerError(
      `--replicas ${replicas}: each replica needs a share of every batch; use --batch-size >= ${replicas}`,
    );
  }
  return ReplicatedSteps.start(model, optimizer, {
    replicas,
    momentum: options.momentum,
    weightDecay: options.weightDecay,
  });
}

async function importTrunkWeights(model: DeepMask, options: TrainOptions): Promise<void> {
  if (options.trunk !== 'mobilenet-v1') {
    throw new TrainerError(
      `--trunk-weights: importing ImageNet weights is supported for mobilenet-v1, not '${options.trunk}'`,
    );
  }
  try {
    await importMobileNetWeights(model, options.trunkWeights!);
  } catch (error) {
    throw new TrainerError(`--trunk-weights: ${(error as Error).message}`);
  }
}

function evalHook(
  val: CocoData,
  options: TrainOptions,
  paths: RunPaths,
  log: MetricsLog,
  progress: ProgressReporter,
) {
  return new EvalHook({
    val,
    imageIds: firstImageIds(val, options.evalImages),
    topN: options.evalTopN,
    everySteps: options.evalEvery,
    log,
    progress,
    saveBest: (model) => replaceModel(paths.model, model),
    onReport: async (report) => {
      await mkdir(paths.eval, { recursive: true });
      await writeFile(join(paths.eval, 'val-results.json'), JSON.stringify(report.results));
      await writeFile(
        join(paths.eval, 'val-eval.json'),
        JSON.stringify({ segm: report.segm, bbox: report.bbox }, null, 2),
      );
    },
  });
}

function silentStream(): NodeJS.WriteStream {
  return { isTTY: false, write: () => true } as unknown as NodeJS.WriteStream;
}
