export { type BackendName, selectBackend } from './backend.js';
export { type Checkpoint, readCheckpoint, type TrainingState } from './checkpoint.js';
export { type DemoOptions, type DemoResult, runDemo } from './demo.js';
export { type DemoDataOptions, type DemoDataset, writeDemoDataset } from './demo-data.js';
export { NonFiniteLossError, TrainerError, UsageError } from './errors.js';
export {
  type ArSummary,
  type EvaluationReport,
  evaluateModel,
  formatArTable,
  summarizeAr,
} from './evaluation.js';
export type { StepRecord, StopReason, TrainingHook } from './loop.js';
export { main } from './main.js';
export { MetricsLog, type MetricsRecord } from './metrics-log.js';
export { type RunPaths, runPaths } from './run-folder.js';
export { type TinyModelOptions, trainTinyModel } from './tiny.js';
export { runTraining, type TrainOptions, type TrainResult, type TrainSession } from './train.js';
