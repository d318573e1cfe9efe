import { describe, fieldBox, fieldInteger, fieldNumber, isObject, type Json } from './check.js';
import type { CocoDataset } from './dataset.js';
import { parseJson } from './dataset.js';
import { CocoFormatError } from './errors.js';
import { type MaskFacts, maskFacts } from './iou.js';
import { scanCountsString } from './rle-string.js';
import { rleFromSegmentation, type Segmentation } from './segmentation.js';

/** One detection of a results file. Masks are usually compressed RLE (`rleToCocoJson`). */
export interface CocoResult {
  image_id: number;
  category_id: number;
  score: number;
  bbox?: [x: number, y: number, width: number, height: number] | number[];
  segmentation?: Segmentation;
}

/** A result as `COCO.loadRes` leaves it: 1-based id by position, area and box filled in. */
export interface Detection {
  id: number;
  imageId: number;
  categoryId: number;
  score: number;
  area: number;
  bbox: ArrayLike<number>;
  /** Present when the results carry masks or the evaluation is `segm`. */
  mask?: MaskFacts;
}

const isBox = (v: unknown): v is number[] =>
  Array.isArray(v) && v.length === 4 && v.every(Number.isFinite) && v[2] >= 0 && v[3] >= 0;

/**
 * Validates results against the ground truth and fills them in as `COCO.loadRes` does: if the first result
 * has a non-empty `bbox`, all are box results (area = w * h); otherwise masks (area from the mask, box from
 * the mask unless given). `needMasks` asks for an RLE on every detection (segm evaluation).
 */
export function loadDetections(
  gt: CocoDataset,
  results: unknown,
  needMasks: boolean,
  sourceName = 'results',
): Detection[] {
  const json = parseJson(results, sourceName);
  if (!Array.isArray(json))
    throw new CocoFormatError(sourceName, `must be a JSON list of results, got ${describe(json)}`);
  if (json.length === 0) return [];
  const first = json[0];
  const boxResults = isObject(first) && Array.isArray(first.bbox) && first.bbox.length > 0;
  return json.map((value, index) => {
    const where = () => `${sourceName}: result [${index}]`;
    if (!isObject(value)) throw new CocoFormatError(where(), `must be an object, got ${describe(value)}`);
    const imageId = Number.isInteger(value.image_id)
      ? (value.image_id as number)
      : fieldInteger(value, 'image_id', where());
    const categoryId = Number.isInteger(value.category_id)
      ? (value.category_id as number)
      : fieldInteger(value, 'category_id', where());
    const score = Number.isFinite(value.score)
      ? (value.score as number)
      : fieldNumber(value, 'score', where());
    if (!gt.hasImage(imageId)) {
      throw new CocoFormatError(
        where(),
        `field "image_id" refers to image ${imageId}, not in the ground truth`,
      );
    }
    const detection: Detection = {
      id: index + 1,
      imageId,
      categoryId,
      score,
      area: 0,
      bbox: [],
      mask: undefined,
    };
    const segmentationWhere = () => `${where()}: field "segmentation"`;
    const image = gt.image(imageId);
    if (boxResults) {
      const box = readBox(value, where);
      detection.bbox = box;
      detection.area = box[2] * box[3];
      if (needMasks) {
        const [x1, y1] = box;
        const x2 = box[0] + box[2];
        const y2 = box[1] + box[3];
        const segmentation = value.segmentation ?? [[x1, y1, x1, y2, x2, y2, x2, y1]];
        detection.mask = maskFacts(
          rleFromSegmentation(segmentation, image.height, image.width, segmentationWhere),
        );
      }
      return detection;
    }
    if (value.segmentation === undefined)
      throw new CocoFormatError(where(), 'missing field "segmentation" (and no "bbox")');
    const mask =
      compressedMask(value.segmentation, segmentationWhere) ??
      maskFacts(rleFromSegmentation(value.segmentation, image.height, image.width, segmentationWhere));
    detection.mask = mask;
    detection.area = mask.area;
    const noBox = value.bbox === undefined || (Array.isArray(value.bbox) && value.bbox.length === 0);
    detection.bbox = noBox ? mask.box : readBox(value, where);
    return detection;
  });
}

function readBox(value: Json, where: () => string): number[] {
  return isBox(value.bbox) ? value.bbox : fieldBox(value, 'bbox', where());
}

/** A compressed RLE result is only scanned (area, box) here; its runs are decoded when an IoU needs them. */
function compressedMask(segmentation: unknown, where: () => string): MaskFacts | null {
  if (!isObject(segmentation) || typeof segmentation.counts !== 'string') return null;
  const size = segmentation.size;
  if (!Array.isArray(size) || size.length !== 2 || !Number.isInteger(size[0]) || !Number.isInteger(size[1]))
    return null;
  const [h, w] = size as [number, number];
  if (h < 0 || w < 0) return null;
  const scan = scanCountsString(segmentation.counts, h, w);
  if (typeof scan === 'string') throw new CocoFormatError(where(), `bad RLE: ${scan}`);
  return {
    size: [h, w],
    counts: null,
    encoded: segmentation.counts,
    box: scan.box,
    area: scan.area,
    runs: scan.length,
    noEmptyRuns: scan.noEmptyRuns,
  };
}
