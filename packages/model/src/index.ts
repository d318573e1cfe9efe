export { type DeepMaskConfig, defaultConfig, type HeadStyle, STRIDE_PX, type TrunkName } from './config.js';
export {
  type CreateOptions,
  createDeepMask,
  DeepMask,
  type DenseCell,
  type DenseOutputs,
  type DenseScores,
  type PatchOutputs,
  type PredictOptions,
} from './deepmask.js';
export { FORMAT, type UrlOrHandler } from './io.js';
export { type LoadOptions, loadDeepMask } from './load.js';
export { type ImportOptions, importMobileNetWeights } from './mobilenet-import.js';
export { formatSummary, type ModelSummary, type SummaryRow } from './summary.js';
