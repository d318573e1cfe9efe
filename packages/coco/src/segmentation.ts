import { describe, isObject } from './check.js';
import { CocoFormatError } from './errors.js';
import { rleFromBox, rleFromPolygon } from './polygon.js';
import { mergeRles, type Rle } from './rle.js';
import { countsFromString, rleToString } from './rle-string.js';

/** COCO `segmentation`: polygons [[x0, y0, x1, y1, ...], ...], or an RLE with list or string counts. */
export type Segmentation = number[][] | RleJson;
export interface RleJson {
  size: [height: number, width: number];
  counts: number[] | string;
}

/** Where a record sits, built only when there is an error to report. */
export type Where = string | (() => string);
const at = (where: Where) => (typeof where === 'string' ? where : where());

/**
 * Any COCO segmentation to RLE as `COCO.annToRLE` does it: polygons are rasterised at the image's
 * height x width and unioned; RLE dicts keep their own `size`. Throws CocoFormatError naming `where`.
 */
export function rleFromSegmentation(
  segmentation: unknown,
  height: number,
  width: number,
  where: Where = 'segmentation',
): Rle {
  return checkSegmentation(segmentation, where) ?? rleFromPolygons(segmentation as number[][], height, width);
}

/**
 * Validates a segmentation without rasterising: returns the RLE of an RLE dict, null for valid polygons.
 */
export function checkSegmentation(segmentation: unknown, where: Where): Rle | null {
  if (Array.isArray(segmentation)) {
    checkPolygons(segmentation, where);
    return null;
  }
  if (isObject(segmentation)) return rleFromCocoJson(segmentation, where);
  throw new CocoFormatError(
    at(where),
    `must be a list of polygons or an RLE object, got ${describe(segmentation)}`,
  );
}

/** A first element of exactly 4 numbers makes the whole list boxes [x, y, w, h] (a COCO API quirk). */
const isBoxList = (polygons: unknown[]) => Array.isArray(polygons[0]) && polygons[0].length === 4;

function checkPolygons(polygons: unknown[], where: Where): void {
  if (polygons.length === 0) throw new CocoFormatError(at(where), 'polygon list is empty');
  const asBoxes = isBoxList(polygons);
  polygons.forEach((polygon, i) => {
    if (!Array.isArray(polygon) || !polygon.every((v) => typeof v === 'number' && Number.isFinite(v))) {
      throw new CocoFormatError(at(where), `polygon ${i} must be a list of finite numbers`);
    }
    if (asBoxes) {
      if (polygon.length !== 4) {
        throw new CocoFormatError(
          at(where),
          `polygon 0 has 4 numbers, so all are read as boxes, but ${i} has ${polygon.length}`,
        );
      }
      return;
    }
    if (polygon.length % 2 !== 0)
      throw new CocoFormatError(at(where), `polygon ${i} has an odd number of coordinates`);
    if (polygon.length < 6) {
      throw new CocoFormatError(
        at(where),
        `polygon ${i} has ${polygon.length / 2} points, expected at least 3`,
      );
    }
  });
}

/** Rasterises checked polygons and unions them (`frPyObjects` then `merge`). */
export function rleFromPolygons(polygons: number[][], height: number, width: number): Rle {
  const asBoxes = isBoxList(polygons);
  return mergeRles(
    polygons.map((p) => (asBoxes ? rleFromBox(p, height, width) : rleFromPolygon(p, height, width))),
  );
}

/** RLE from its COCO JSON form, `{ size: [h, w], counts }` with string or list counts, validated. */
export function rleFromCocoJson(json: unknown, where: Where = 'rle'): Rle {
  if (!isObject(json)) throw new CocoFormatError(at(where), `RLE must be an object, got ${describe(json)}`);
  const size = json.size;
  if (
    !Array.isArray(size) ||
    size.length !== 2 ||
    !size.every((v) => typeof v === 'number' && Number.isInteger(v) && v >= 0)
  ) {
    throw new CocoFormatError(at(where), `RLE field "size" must be [height, width] of non-negative integers`);
  }
  const [h, w] = size as [number, number];
  const counts = json.counts;
  if (typeof counts === 'string') {
    const decoded = countsFromString(counts, h, w);
    if (typeof decoded === 'string') throw new CocoFormatError(at(where), `bad RLE: ${decoded}`);
    return { size: [h, w], counts: decoded };
  }
  if (Array.isArray(counts)) {
    let sum = 0;
    for (const c of counts) {
      if (typeof c !== 'number' || !Number.isInteger(c) || c < 0 || c > 0xffffffff) {
        throw new CocoFormatError(
          at(where),
          `bad RLE: counts must be non-negative integers, got ${describe(c)}`,
        );
      }
      sum += c;
    }
    if (sum !== h * w) {
      throw new CocoFormatError(at(where), `bad RLE: counts sum to ${sum}, but size ${h}x${w} has ${h * w}`);
    }
    return { size: [h, w], counts: Uint32Array.from(counts as number[]) };
  }
  throw new CocoFormatError(
    at(where),
    `RLE field "counts" must be a string or a list, got ${describe(counts)}`,
  );
}

/** RLE to its compressed COCO JSON form (what results files and `pycocotools.mask.encode` hold). */
export function rleToCocoJson(rle: Rle): { size: [number, number]; counts: string } {
  return { size: [rle.size[0], rle.size[1]], counts: rleToString(rle) };
}
