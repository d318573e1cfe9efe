import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { appendFile } from 'node:fs/promises';

export interface StepMetrics {
  type: 'step';
  step: number;
  loss: number;
  maskLoss: number;
  scoreLoss: number;
  heads: string;
  lr: number;
  samplesPerSec: number;
  elapsedSec: number;
}

export interface EvalMetrics {
  type: 'eval';
  step: number;
  images: number;
  segm: Record<string, number>;
  bbox: Record<string, number>;
  elapsedSec: number;
}

export type MetricsRecord = StepMetrics | EvalMetrics;

/** `metrics.jsonl`: one JSON object per line, one line per step or evaluation. */
export class MetricsLog {
  constructor(readonly path: string) {}

  append(record: MetricsRecord): Promise<void> {
    return appendFile(this.path, `${JSON.stringify(record)}\n`);
  }

  /** On resume: drops lines written after the checkpoint's step, so the log describes one run. */
  truncateAfter(step: number): void {
    if (!existsSync(this.path)) return;
    const kept = readFileSync(this.path, 'utf8')
      .split('\n')
      .filter((line) => line.trim() !== '' && (JSON.parse(line) as MetricsRecord).step <= step);
    writeFileSync(this.path, kept.map((line) => `${line}\n`).join(''));
  }

  static read(path: string): MetricsRecord[] {
    return readFileSync(path, 'utf8')
      .split('\n')
      .filter((line) => line.trim() !== '')
      .map((line) => JSON.parse(line) as MetricsRecord);
  }
}
