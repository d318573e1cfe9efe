export {
  type BatchMode,
  type ObjectChoice,
  type Rgb,
  resolveSamplingConfig,
  type SamplingConfig,
  type SamplingConfigInput,
} from './config.js';
export { prefetchInOrder } from './prefetch.js';
export { createSampler, type PatchSampler, type SamplerOptions } from './sampler.js';
export { batchToTensors, type PatchBatchTensors } from './tensors.js';
export type {
  BatchHeads,
  ImageDecoder,
  ImageSource,
  PatchBatch,
  PatchInfo,
  RgbImage,
  SamplingWarning,
} from './types.js';
