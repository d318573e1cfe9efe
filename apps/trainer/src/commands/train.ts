import type { DeepMaskConfig, HeadStyle, TrunkName } from '@deepmask/model';
import { type BackendName, replicasFor, selectBackend } from '../backend.js';
import type { CommandIo } from '../main.js';
import type { FlagValues } from '../options.js';
import { ProgressReporter } from '../progress.js';
import type { LrSchedule } from '../schedule.js';
import { runTraining, type TrainOptions } from '../train.js';

export const EXIT_INTERRUPTED = 130;

/** The optimisation flags shared by `train` and `demo`. */
export function optimisationOptions(values: FlagValues) {
  return {
    batchSize: values['batch-size'] as number,
    batchMode: values['batch-mode'] as 'mixed' | 'alternating',
    lr: values.lr as number,
    lrSchedule: values['lr-schedule'] as LrSchedule,
    epochSteps: values['epoch-steps'] as number,
    momentum: values.momentum as number,
    lambda: values.lambda as number,
    weightDecay: values['weight-decay'] as number,
    seed: values.seed as number,
  };
}

export async function trainCommand(
  values: FlagValues,
  _positionals: string[],
  io: CommandIo,
): Promise<number> {
  const inputSize = values['input-size'] as number | undefined;
  const backend = values.backend as BackendName;
  const options: TrainOptions = {
    data: values.data as string,
    ann: values.ann as string,
    valData: values['val-data'] as string | undefined,
    valAnn: values['val-ann'] as string | undefined,
    trunk: values.trunk as TrunkName,
    trunkWeights: values['trunk-weights'] as string | undefined,
    model: modelOverrides(inputSize, values.head as HeadStyle | undefined),
    out: values.out as string,
    resume: values.resume as boolean,
    maxSteps: values['max-steps'] as number | undefined,
    maxMinutes: values['max-minutes'] as number | undefined,
    ...optimisationOptions(values),
    evalEvery: values['eval-every'] as number,
    evalImages: values['eval-images'] as number,
    evalTopN: values['eval-top-n'] as number,
    checkpointEvery: values['checkpoint-every'] as number,
    replicas: replicasFor(backend, values.replicas as number),
    samplerThreads: values['sampler-threads'] as number,
  };
  await selectBackend(backend);
  const progress = new ProgressReporter(io.stderr);
  const result = await withInterrupt(progress, (interrupt) => runTraining(options, { progress, interrupt }));
  const { state, paths, reason } = result;
  io.stdout.write(
    `stopped (${reason}) at step ${state.step} after ${(state.elapsedSec / 60).toFixed(1)} min\n` +
      `run folder: ${paths.root}\n  checkpoint: ${paths.checkpoint}\n  model:      ${paths.model}` +
      `${state.bestAr === undefined ? '' : ` (best segm AR@100 ${state.bestAr.toFixed(3)} at step ${state.bestStep})`}\n` +
      `  metrics:    ${paths.metrics}\n`,
  );
  return reason === 'interrupted' ? EXIT_INTERRUPTED : 0;
}

/** Ctrl-C once: finish the step, write a final checkpoint, exit; twice: exit at once. */
export async function withInterrupt<T>(
  progress: ProgressReporter,
  run: (interrupt: { requested: boolean }) => Promise<T>,
): Promise<T> {
  const interrupt = { requested: false };
  const onSigint = () => {
    if (interrupt.requested) process.exit(EXIT_INTERRUPTED);
    interrupt.requested = true;
    progress.log('interrupted: writing a final checkpoint (Ctrl-C again to quit at once)');
  };
  process.on('SIGINT', onSigint);
  try {
    return await run(interrupt);
  } finally {
    process.off('SIGINT', onSigint);
  }
}

/** The official code's heads reduce the features to 128 channels and use one hidden score layer. */
function modelOverrides(
  inputSize: number | undefined,
  head: HeadStyle | undefined,
): Partial<DeepMaskConfig> | undefined {
  const overrides: Partial<DeepMaskConfig> = {
    ...(inputSize === undefined ? {} : { inputSizePx: inputSize }),
    ...(head === 'shared' ? { head, reducedChannels: 128, scoreHiddenSizes: [1024] } : {}),
    ...(head === 'paper' ? { head } : {}),
  };
  return Object.keys(overrides).length === 0 ? undefined : overrides;
}
