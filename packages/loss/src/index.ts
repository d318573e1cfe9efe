export type { DeepMaskLoss, LossHeads, LossInputs, LossOptions } from './deep-mask-loss.js';
export { deepMaskLoss } from './deep-mask-loss.js';
export type { MetricInputs, TrainingMetrics } from './training-metrics.js';
export { trainingMetrics } from './training-metrics.js';
