import {
  describe,
  fieldArray,
  fieldBox,
  fieldInteger,
  fieldNumber,
  fieldSize,
  isObject,
  type Json,
} from './check.js';
import { CocoFormatError } from './errors.js';
import type { Rle } from './rle.js';
import { checkSegmentation, rleFromPolygons, type Segmentation } from './segmentation.js';

export interface CocoImage {
  id: number;
  width: number;
  height: number;
  file_name?: string;
}

export interface CocoCategory {
  id: number;
  name?: string;
  supercategory?: string;
}

export interface CocoAnnotation {
  id: number;
  image_id: number;
  category_id: number;
  /** Used verbatim by evaluation: it decides the area range, never recomputed from the mask. */
  area: number;
  /** Used verbatim as the ground-truth box in `bbox` evaluation. */
  bbox: [x: number, y: number, width: number, height: number];
  iscrowd: 0 | 1;
  segmentation?: Segmentation;
}

/** Parses JSON text (or takes an already parsed value), naming the source on a syntax error. */
export function parseJson(jsonTextOrObject: unknown, sourceName: string): unknown {
  if (typeof jsonTextOrObject !== 'string') return jsonTextOrObject;
  try {
    return JSON.parse(jsonTextOrObject);
  } catch (error) {
    throw new CocoFormatError(sourceName, `not valid JSON (${(error as Error).message})`);
  }
}

/** A validated COCO instances file, indexed by image. */
export class CocoDataset {
  /** Category ids in ascending order (the order COCOeval uses). */
  readonly categoryIds: readonly number[];
  private readonly imagesById = new Map<number, CocoImage>();
  private readonly annotationsByImage = new Map<number, CocoAnnotation[]>();
  private readonly rles = new Map<CocoAnnotation, Rle>();

  private constructor(
    readonly sourceName: string,
    readonly images: readonly CocoImage[],
    readonly categories: readonly CocoCategory[],
    readonly annotations: readonly CocoAnnotation[],
  ) {
    for (const image of images) {
      this.imagesById.set(image.id, image);
      this.annotationsByImage.set(image.id, []);
    }
    for (const annotation of annotations) this.annotationsByImage.get(annotation.image_id)?.push(annotation);
    this.categoryIds = categories.map((c) => c.id).sort((a, b) => a - b);
  }

  /**
   * Loads and validates an instances file (`images`, `categories`, `annotations`). Every segmentation is
   * checked here (RLE strings decoded), so a bad one fails now with its annotation id and field named;
   * polygons are rasterised on first use.
   */
  static fromJson(jsonTextOrObject: unknown, sourceName = 'dataset'): CocoDataset {
    const json = parseJson(jsonTextOrObject, sourceName);
    if (!isObject(json))
      throw new CocoFormatError(sourceName, `must be a JSON object, got ${describe(json)}`);
    const images = fieldArray(json, 'images', sourceName).map((v, i) =>
      readImage(v, `${sourceName}: images[${i}]`),
    );
    const categories = fieldArray(json, 'categories', sourceName).map((v, i) =>
      readCategory(v, `${sourceName}: categories[${i}]`),
    );
    const rawAnnotations = json.annotations === undefined ? [] : fieldArray(json, 'annotations', sourceName);
    const annotations = rawAnnotations.map((v, i) => readAnnotation(v, `${sourceName}: annotations[${i}]`));
    const dataset = new CocoDataset(
      sourceName,
      uniqueIds(images, `${sourceName}: images`),
      uniqueIds(categories, `${sourceName}: categories`),
      uniqueIds(annotations, `${sourceName}: annotations`),
    );
    const categoryIds = new Set(dataset.categoryIds);
    for (const annotation of annotations) {
      const where = () => `${sourceName}: annotation id ${annotation.id}`;
      const image = dataset.imagesById.get(annotation.image_id);
      if (!image)
        throw new CocoFormatError(where(), `field "image_id" refers to unknown image ${annotation.image_id}`);
      if (!categoryIds.has(annotation.category_id)) {
        throw new CocoFormatError(
          where(),
          `field "category_id" refers to unknown category ${annotation.category_id}`,
        );
      }
      if (annotation.segmentation !== undefined) {
        const rle = checkSegmentation(annotation.segmentation, () => `${where()}: field "segmentation"`);
        if (rle) dataset.rles.set(annotation, rle);
      }
    }
    return dataset;
  }

  /** The image with this id; throws a RangeError for an unknown id. */
  image(id: number): CocoImage {
    const image = this.imagesById.get(id);
    if (!image) throw new RangeError(`${this.sourceName}: no image with id ${id}`);
    return image;
  }

  hasImage(id: number): boolean {
    return this.imagesById.has(id);
  }

  /** Annotations of one image in file order. */
  annotationsOf(imageId: number): readonly CocoAnnotation[] {
    const annotations = this.annotationsByImage.get(imageId);
    if (!annotations) throw new RangeError(`${this.sourceName}: no image with id ${imageId}`);
    return annotations;
  }

  /** The annotation's mask as `COCO.annToRLE` makes it (polygons at the image's size). */
  annotationRle(annotation: CocoAnnotation): Rle {
    const rle = this.rles.get(annotation);
    if (rle) return rle;
    if (annotation.segmentation === undefined) {
      throw new CocoFormatError(
        `${this.sourceName}: annotation id ${annotation.id}`,
        'missing field "segmentation"',
      );
    }
    const image = this.image(annotation.image_id);
    const polygonRle = rleFromPolygons(annotation.segmentation as number[][], image.height, image.width);
    this.rles.set(annotation, polygonRle);
    return polygonRle;
  }
}

function record(value: unknown, where: string): Json {
  if (!isObject(value)) throw new CocoFormatError(where, `must be an object, got ${describe(value)}`);
  return value;
}

function withId(where: string, value: Json): string {
  return typeof value.id === 'number' ? where.replace(/\[\d+\]$/, (m) => `${m} (id ${value.id})`) : where;
}

function readImage(value: unknown, at: string): CocoImage {
  const json = record(value, at);
  const where = withId(at, json);
  const image: CocoImage = {
    id: fieldInteger(json, 'id', where),
    width: fieldSize(json, 'width', where),
    height: fieldSize(json, 'height', where),
  };
  if (json.file_name !== undefined) {
    if (typeof json.file_name !== 'string') {
      throw new CocoFormatError(where, `field "file_name" must be a string, got ${describe(json.file_name)}`);
    }
    image.file_name = json.file_name;
  }
  return image;
}

function readCategory(value: unknown, at: string): CocoCategory {
  const json = record(value, at);
  const where = withId(at, json);
  const category: CocoCategory = { id: fieldInteger(json, 'id', where) };
  for (const field of ['name', 'supercategory'] as const) {
    const text = json[field];
    if (text === undefined) continue;
    if (typeof text !== 'string')
      throw new CocoFormatError(where, `field "${field}" must be a string, got ${describe(text)}`);
    category[field] = text;
  }
  return category;
}

function readAnnotation(value: unknown, at: string): CocoAnnotation {
  const json = record(value, at);
  const where = withId(at, json);
  const area = fieldNumber(json, 'area', where);
  if (area < 0) throw new CocoFormatError(where, `field "area" must not be negative, got ${area}`);
  const annotation: CocoAnnotation = {
    id: fieldInteger(json, 'id', where),
    image_id: fieldInteger(json, 'image_id', where),
    category_id: fieldInteger(json, 'category_id', where),
    area,
    bbox: fieldBox(json, 'bbox', where),
    iscrowd: readCrowd(json, where),
  };
  if (json.segmentation !== undefined) annotation.segmentation = json.segmentation as Segmentation;
  return annotation;
}

function readCrowd(json: Json, where: string): 0 | 1 {
  const value = json.iscrowd;
  if (value === undefined) throw new CocoFormatError(where, 'missing field "iscrowd"');
  if (value === 0 || value === false) return 0;
  if (value === 1 || value === true) return 1;
  throw new CocoFormatError(where, `field "iscrowd" must be 0 or 1, got ${describe(value)}`);
}

function uniqueIds<T extends { id: number }>(items: T[], where: string): T[] {
  const seen = new Set<number>();
  for (const item of items) {
    if (seen.has(item.id)) throw new CocoFormatError(where, `id ${item.id} appears more than once`);
    seen.add(item.id);
  }
  return items;
}
