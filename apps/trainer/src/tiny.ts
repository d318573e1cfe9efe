import { runDemo } from './demo.js';
import { ProgressReporter } from './progress.js';
import type { RunPaths } from './run-folder.js';

export interface TinyModelOptions {
  /** Optimizer steps (default 30). */
  steps?: number;
  trainImages?: number;
  valImages?: number;
  seed?: number;
  /** Progress and messages go here; silent by default. */
  log?: NodeJS.WriteStream;
}

/**
 * A small trained run folder (synthetic data, 'tiny' trunk) in `out`, for tests of tools that read runs
 * (the viewer): `model/`, `metrics.jsonl`, `data/` in COCO format. Uses the active tfjs backend.
 */
export async function trainTinyModel(out: string, options: TinyModelOptions = {}): Promise<RunPaths> {
  const stream = options.log ?? ({ isTTY: false, write: () => true } as unknown as NodeJS.WriteStream);
  const result = await runDemo(
    {
      out,
      maxSteps: options.steps ?? 30,
      trainImages: options.trainImages ?? 16,
      valImages: options.valImages ?? 4,
      seed: options.seed ?? 1,
      batchSize: 16,
      batchMode: 'mixed',
      lr: 0.02,
      lrSchedule: 'constant',
      epochSteps: 4000,
      momentum: 0.9,
      lambda: 0.5,
      weightDecay: 5e-4,
      compareUntrained: false,
    },
    { progress: new ProgressReporter(stream) },
  );
  return result.paths;
}
