export { type CocoAnnotation, type CocoCategory, CocoDataset, type CocoImage } from './dataset.js';
export { CocoFormatError } from './errors.js';
export { type EvaluateOptions, type EvaluationResult, evaluate, type ImageEvaluation } from './evaluate.js';
export { type Box, boxIou, maskIou } from './iou.js';
export {
  type AreaRange,
  COCO_AREA_RANGES,
  DETECTION_MAX_DETS,
  type EvalParams,
  type IouType,
  PROPOSAL_MAX_DETS,
} from './params.js';
export { rleFromBox, rleFromPolygon } from './polygon.js';
export type { CocoResult } from './results.js';
export {
  mergeRles,
  type Rle,
  rleArea,
  rleDecode,
  rleEncode,
  rleFromRowMajor,
  rleToBbox,
  rleToRowMajor,
} from './rle.js';
export { rleFromString, rleToString } from './rle-string.js';
export {
  type RleJson,
  rleFromCocoJson,
  rleFromSegmentation,
  rleToCocoJson,
  type Segmentation,
} from './segmentation.js';
