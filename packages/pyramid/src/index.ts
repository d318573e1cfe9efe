export { planScaleBatches } from './batching.js';
export { pasteMask, toCocoResults } from './coco-results.js';
export { cellToImage, imageToCell, type ScaleGeometry, STRIDE_PX, scaleGeometry } from './geometry.js';
export { proposeMasks } from './propose.js';
export { DEFAULT_SCALES, scaleList } from './scales.js';
export type {
  DenseCell,
  DenseMaskModel,
  Proposal,
  ProposeOptions,
  ProposeProgress,
  ProposeResult,
  ProposeTimings,
  ScaleBatching,
  ScaleOption,
  ScoreMap,
} from './types.js';
