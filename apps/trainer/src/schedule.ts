export const LR_SCHEDULES = ['official', 'constant'] as const;
export type LrSchedule = (typeof LR_SCHEDULES)[number];

export interface ScheduleOptions {
  baseLr: number;
  schedule: LrSchedule;
  /** Batches per epoch (the official code's `maxload`). */
  epochSteps: number;
}

/** Learning rate at `step`: the official code's base to epoch 50, half to 120, a tenth after. */
export function learningRateAt(step: number, { baseLr, schedule, epochSteps }: ScheduleOptions): number {
  if (schedule === 'constant') return baseLr;
  const epoch = Math.floor(step / epochSteps);
  if (epoch < 50) return baseLr;
  if (epoch < 120) return baseLr / 2;
  return baseLr / 10;
}
