import type { DeepMask } from '@deepmask/model';
import type { CocoData } from './coco-data.js';
import { type ArSummary, type EvaluationReport, evaluateModel, summarizeAr } from './evaluation.js';
import type { LoopContext, StepRecord, TrainingHook } from './loop.js';
import type { MetricsLog } from './metrics-log.js';
import type { ProgressReporter } from './progress.js';
import type { CheckpointWriter } from './train.js';

/** Keeps `state.elapsedSec` and the samples/s rate current; other hooks read them. */
export class ClockHook implements TrainingHook {
  private readonly sessionStart = performance.now();
  private readonly baseElapsedSec: number;
  private recent: { samples: number; ms: number }[] = [];

  constructor(context: LoopContext) {
    this.baseElapsedSec = context.state.elapsedSec;
  }

  afterStep(context: LoopContext, record: StepRecord): void {
    context.state.elapsedSec = this.baseElapsedSec + (performance.now() - this.sessionStart) / 1000;
    this.recent.push({ samples: record.batchSize, ms: record.stepMs });
    if (this.recent.length > 20) this.recent.shift();
  }

  get samplesPerSec(): number {
    const samples = this.recent.reduce((s, r) => s + r.samples, 0);
    const ms = this.recent.reduce((s, r) => s + r.ms, 0);
    return ms > 0 ? (1000 * samples) / ms : 0;
  }

  get secondsPerStep(): number {
    const ms = this.recent.reduce((s, r) => s + r.ms, 0);
    return this.recent.length > 0 ? ms / 1000 / this.recent.length : Number.NaN;
  }

  get sessionSec(): number {
    return (performance.now() - this.sessionStart) / 1000;
  }
}

export class MetricsHook implements TrainingHook {
  constructor(
    private readonly log: MetricsLog,
    private readonly clock: ClockHook,
  ) {}

  afterStep(context: LoopContext, record: StepRecord): Promise<void> {
    return this.log.append({
      type: 'step',
      step: record.step,
      loss: record.loss,
      maskLoss: record.maskLoss,
      scoreLoss: record.scoreLoss,
      heads: record.heads,
      lr: record.lr,
      samplesPerSec: this.clock.samplesPerSec,
      elapsedSec: context.state.elapsedSec,
    });
  }
}

export class ProgressHook implements TrainingHook {
  constructor(
    private readonly progress: ProgressReporter,
    private readonly clock: ClockHook,
    private readonly limits: { maxSteps?: number; deadlineMs?: number },
  ) {}

  afterStep(_context: LoopContext, record: StepRecord): void {
    const { maxSteps, deadlineMs } = this.limits;
    const stepsEta =
      maxSteps === undefined
        ? Number.POSITIVE_INFINITY
        : (maxSteps - record.step) * this.clock.secondsPerStep;
    const timeEta = deadlineMs === undefined ? Number.POSITIVE_INFINITY : (deadlineMs - Date.now()) / 1000;
    const etaSec = Math.min(stepsEta, timeEta);
    const fraction = Number.isFinite(etaSec)
      ? this.clock.sessionSec / (this.clock.sessionSec + etaSec)
      : undefined;
    this.progress.update(record.step, fraction, record.loss, this.clock.samplesPerSec, etaSec);
  }

  onStop(): void {
    this.progress.finish();
  }
}

/** Periodic checkpoints and a final one at any stop, written atomically. */
export class CheckpointHook implements TrainingHook {
  constructor(
    private readonly write: CheckpointWriter,
    private readonly everySteps: number,
  ) {}

  async afterStep(context: LoopContext, record: StepRecord): Promise<void> {
    if (this.everySteps > 0 && record.step % this.everySteps === 0) await this.write(context);
  }

  async onStop(context: LoopContext): Promise<void> {
    await this.write(context);
  }
}

export interface EvalHookOptions {
  val: CocoData;
  imageIds: number[];
  topN: number;
  everySteps: number;
  log: MetricsLog;
  progress: ProgressReporter;
  /** Saves the run's best model. */
  saveBest: (model: DeepMask) => Promise<void>;
  /** Receives every report, e.g. to write the results JSON. */
  onReport?: (report: EvaluationReport, step: number) => Promise<void>;
}

/** Validation AR every `everySteps` and at a clean stop; keeps the best model by segm AR@100. */
export class EvalHook implements TrainingHook {
  private lastEvalStep = -1;

  constructor(private readonly options: EvalHookOptions) {}

  async afterStep(context: LoopContext, record: StepRecord): Promise<void> {
    if (this.options.everySteps > 0 && record.step % this.options.everySteps === 0) await this.run(context);
  }

  async onStop(context: LoopContext, reason: string): Promise<void> {
    if (reason !== 'interrupted' && this.lastEvalStep !== context.state.step) await this.run(context);
  }

  private async run(context: LoopContext): Promise<void> {
    const { val, imageIds, topN, log, progress } = this.options;
    const started = performance.now();
    await context.pullReplicas?.();
    const report = await evaluateModel(context.model, val, imageIds, { topN });
    const segm = summarizeAr(report.segm);
    const bbox = summarizeAr(report.bbox);
    this.lastEvalStep = context.state.step;
    await log.append({
      type: 'eval',
      step: context.state.step,
      images: report.images,
      segm: { ...segm },
      bbox: { ...bbox },
      elapsedSec: context.state.elapsedSec,
    });
    await this.options.onReport?.(report, context.state.step);
    const state = context.state;
    const best = state.bestAr === undefined || segm['AR@100'] > state.bestAr;
    if (best) {
      state.bestAr = segm['AR@100'];
      state.bestStep = state.step;
      await this.options.saveBest(context.model);
    }
    progress.log(
      `eval @ step ${state.step} on ${report.images} images (${((performance.now() - started) / 1000).toFixed(1)} s): ` +
        `${formatArLine('segm', segm)} | ${formatArLine('bbox', bbox)}${best ? '  (best, saved)' : ''}`,
    );
  }
}

function formatArLine(name: string, ar: ArSummary): string {
  return `${name} AR@10 ${ar['AR@10'].toFixed(3)} AR@100 ${ar['AR@100'].toFixed(3)}`;
}
