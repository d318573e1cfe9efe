import { deepMaskLoss } from '@deepmask/loss';
import type { DeepMask } from '@deepmask/model';
import { batchToTensors, type PatchBatch } from '@deepmask/sampling';
import * as tf from '@tensorflow/tfjs-core';
import type { TrainingState } from './checkpoint.js';
import { NonFiniteLossError } from './errors.js';
import type { SgdMomentum } from './optimizer.js';

export type StopReason = 'max-steps' | 'max-minutes' | 'interrupted' | 'data-exhausted';

export interface StepRecord {
  step: number;
  loss: number;
  maskLoss: number;
  scoreLoss: number;
  heads: PatchBatch['heads'];
  batchSize: number;
  lr: number;
  stepMs: number;
}

export interface LoopContext {
  model: DeepMask;
  optimizer: SgdMomentum;
  state: TrainingState;
  /** Brings `model` and `optimizer` up to date where others train them (`--replicas`); hooks call it first. */
  pullReplicas?: () => Promise<void>;
}

/** The losses of one batch (means over its samples). */
export interface BatchLosses {
  loss: number;
  maskLoss: number;
  scoreLoss: number;
}

/** Takes one SGD step on `batch` unless its loss is not finite; resolves to the batch's losses. */
export type StepRunner = (batch: PatchBatch, learningRate: number) => Promise<BatchLosses>;

/** Side jobs of training (progress, metrics log, checkpoints, evaluation) run between steps. */
export interface TrainingHook {
  afterStep?(context: LoopContext, record: StepRecord): Promise<void> | void;
  onStop?(context: LoopContext, reason: StopReason): Promise<void> | void;
}

export interface BatchSource {
  prefetch(fromIndex: number): AsyncIterable<PatchBatch>;
}

export interface LoopOptions {
  sampler: BatchSource;
  learningRate: (step: number) => number;
  /** Total steps of the run (counting earlier sessions); undefined runs until another limit. */
  maxSteps?: number;
  /** `Date.now()` value at which to stop. */
  deadlineMs?: number;
  /** Checked between steps; set by the SIGINT handler. */
  interrupt?: { requested: boolean };
  lambda?: number;
  /** Runs the steps elsewhere (`--replicas`); by default they run here, on the context's model. */
  runStep?: StepRunner;
}

/**
 * The training loop: batches from the sampler, the joint loss, one SGD step, then the hooks. Stops at a
 * limit (then the hooks' `onStop` run) or throws `NonFiniteLossError` before applying a non-finite step.
 */
export async function trainLoop(
  context: LoopContext,
  hooks: TrainingHook[],
  options: LoopOptions,
): Promise<StopReason> {
  const limitReached = (): StopReason | undefined => {
    if (options.interrupt?.requested) return 'interrupted';
    if (options.maxSteps !== undefined && context.state.step >= options.maxSteps) return 'max-steps';
    if (options.deadlineMs !== undefined && Date.now() >= options.deadlineMs) return 'max-minutes';
    return undefined;
  };
  let reason = limitReached();
  if (reason === undefined) {
    reason = 'data-exhausted';
    for await (const batch of options.sampler.prefetch(context.state.samplerIndex)) {
      const record = await trainStep(context, batch, options);
      for (const hook of hooks) await hook.afterStep?.(context, record);
      const stop = limitReached();
      if (stop !== undefined) {
        reason = stop;
        break;
      }
    }
  }
  for (const hook of hooks) await hook.onStop?.(context, reason);
  return reason;
}

async function trainStep(context: LoopContext, batch: PatchBatch, options: LoopOptions): Promise<StepRecord> {
  const started = performance.now();
  const { state } = context;
  const lr = options.learningRate(state.step);
  const runStep = options.runStep ?? ((b, rate) => localStep(context, b, rate, options.lambda));
  const { loss, maskLoss, scoreLoss } = await runStep(batch, lr);
  if (!Number.isFinite(loss)) {
    throw new NonFiniteLossError(
      `loss is ${loss} at step ${state.step + 1} (lr ${lr}); training stopped before applying this step, ` +
        'the last checkpoint is kept. Lower --lr or check the data.',
    );
  }
  state.step += 1;
  state.samplerIndex += 1;
  return {
    step: state.step,
    loss,
    maskLoss,
    scoreLoss,
    heads: batch.heads,
    batchSize: batch.labels.length,
    lr,
    stepMs: performance.now() - started,
  };
}

/** One step on the context's model and optimizer, in this thread. */
async function localStep(
  context: LoopContext,
  batch: PatchBatch,
  lr: number,
  lambda: number | undefined,
): Promise<BatchLosses> {
  const { model, optimizer } = context;
  const inputs = batchToTensors(batch);
  let parts: { mask: tf.Scalar; score: tf.Scalar } | undefined;
  const { value, grads } = tf.variableGrads(() => {
    const { maskLogits, scoreLogits } = model.predictPatches(inputs.patches, { training: true });
    const loss = deepMaskLoss(
      { maskLogits, scoreLogits, maskTargets: inputs.maskTargets, labels: inputs.labels },
      { heads: batch.heads, lambda },
    );
    parts = { mask: tf.keep(loss.mask), score: tf.keep(loss.score) };
    return loss.total;
  }, model.trainableVariables);
  const [loss, maskLoss, scoreLoss] = await Promise.all(
    [value, parts!.mask, parts!.score].map(async (t) => (await t.data())[0]),
  );
  tf.dispose([value, parts!.mask, parts!.score, inputs.patches, inputs.maskTargets, inputs.labels]);
  if (Number.isFinite(loss)) optimizer.applyGradients(grads, lr);
  tf.dispose(grads);
  return { loss, maskLoss, scoreLoss };
}
