import type { ImageDecoder, ImageSource, RgbImage } from '../src/index.js';

/** A placement as PatchInfo reports it. */
export interface Placement {
  centreX: number;
  centreY: number;
  scale: number;
  flipped: boolean;
}

/** Image point under patch point (u, v), written from the definition in the README, not from src. */
export function imagePointOf(p: Placement, inputSizePx: number, u: number, v: number): [number, number] {
  const dx = (u - inputSizePx / 2) / p.scale;
  return [p.centreX + (p.flipped ? -dx : dx), p.centreY + (v - inputSizePx / 2) / p.scale];
}

/** Where the box centre sits in the patch: offset from the patch centre (patch px) and |log2| scale error. */
export function positiveError(p: Placement, bbox: number[], canonicalSizePx: number) {
  const offset = Math.max(
    Math.abs(bbox[0] + bbox[2] / 2 - p.centreX) * p.scale,
    Math.abs(bbox[1] + bbox[3] / 2 - p.centreY) * p.scale,
  );
  const scaleLog2 = Math.abs(Math.log2((Math.max(bbox[2], bbox[3]) * p.scale) / canonicalSizePx));
  return { offset, scaleLog2 };
}

/** Bitwise equality of two float arrays (vitest's deep equality is slow on large typed arrays). */
export function sameValues(a: Float32Array, b: Float32Array): boolean {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(
    Buffer.from(b.buffer, b.byteOffset, b.byteLength),
  );
}

export function iou(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let inter = 0;
  let union = 0;
  for (let i = 0; i < a.length; i++) {
    const x = a[i] > 0;
    const y = b[i] > 0;
    if (x && y) inter++;
    if (x || y) union++;
  }
  return union === 0 ? 1 : inter / union;
}

/** Even-odd point-in-polygon for [x0, y0, x1, y1, ...]. */
export function insidePolygon(polygon: number[], x: number, y: number): boolean {
  let inside = false;
  for (let i = 0, j = polygon.length - 2; i < polygon.length; j = i, i += 2) {
    const [xi, yi, xj, yj] = [polygon[i], polygon[i + 1], polygon[j], polygon[j + 1]];
    if (yi > y !== yj > y && x < ((xj - xi) * (y - yi)) / (yj - yi) + xi) inside = !inside;
  }
  return inside;
}

/** Images whose pixel at (x, y) is (x, y, 200): every patch value tells where it was read. */
export function coordinateImage(width: number, height: number): RgbImage {
  const data = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) data.set([x, y, 200], (y * width + x) * 3);
  }
  return { width, height, data };
}

/** The image at 1/k by averaging k x k blocks (sides divisible by k), as a shrinking decoder would. */
export function shrinkImage(image: RgbImage, k: number): RgbImage {
  const width = image.width / k;
  const height = image.height / k;
  if (!Number.isInteger(width) || !Number.isInteger(height))
    throw new Error(`shrinkImage: sides not divisible by ${k}`);
  const data = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      for (let c = 0; c < 3; c++) {
        let sum = 0;
        for (let dy = 0; dy < k; dy++) {
          for (let dx = 0; dx < k; dx++) sum += image.data[((y * k + dy) * image.width + x * k + dx) * 3 + c];
        }
        data[(y * width + x) * 3 + c] = Math.round(sum / (k * k));
      }
    }
  }
  return { width, height, data, shrink: k };
}

/**
 * An in-memory image folder: files are their own names as bytes, and the decoder draws the image
 * registered under that name (shrunk on request when its sides allow). `missing` files cannot be read;
 * `corrupt` ones cannot be decoded.
 */
export function memoryImages(
  images: Record<string, RgbImage>,
  bad: { missing?: string[]; corrupt?: string[] } = {},
): { source: ImageSource; decoder: ImageDecoder; reads: Map<string, number> } {
  const reads = new Map<string, number>();
  const source: ImageSource = {
    async read(fileName) {
      reads.set(fileName, (reads.get(fileName) ?? 0) + 1);
      if (bad.missing?.includes(fileName) || !(fileName in images)) {
        throw new Error(`memory: no file '${fileName}'`);
      }
      return new TextEncoder().encode(fileName);
    },
  };
  const decoder: ImageDecoder = {
    async decode(bytes, name, options) {
      if (bad.corrupt?.includes(name)) throw new Error(`memory: cannot decode '${name}'`);
      const image = images[new TextDecoder().decode(bytes)];
      const k = options?.shrink ?? 1;
      return k > 1 && image.width % k === 0 && image.height % k === 0 ? shrinkImage(image, k) : image;
    },
  };
  return { source, decoder, reads };
}

interface SyntheticObject {
  id: number;
  imageId: number;
  categoryId: number;
  polygon: number[];
  crowd?: boolean;
}

export function polygonBox(polygon: number[]): [number, number, number, number] {
  const xs = polygon.filter((_, i) => i % 2 === 0);
  const ys = polygon.filter((_, i) => i % 2 === 1);
  const [x0, y0] = [Math.min(...xs), Math.min(...ys)];
  return [x0, y0, Math.max(...xs) - x0, Math.max(...ys) - y0];
}

function polygonArea(polygon: number[]): number {
  let twice = 0;
  for (let i = 0, j = polygon.length - 2; i < polygon.length; j = i, i += 2) {
    twice += polygon[j] * polygon[i + 1] - polygon[i] * polygon[j + 1];
  }
  return Math.abs(twice) / 2;
}

/** A COCO instances object for these images and objects (boxes and areas computed from the polygons). */
export function instancesJson(
  images: { id: number; fileName: string; width: number; height: number }[],
  objects: SyntheticObject[],
  categoryIds: number[],
) {
  return {
    images: images.map((i) => ({ id: i.id, file_name: i.fileName, width: i.width, height: i.height })),
    categories: categoryIds.map((id) => ({ id, name: `c${id}` })),
    annotations: objects.map((o) => ({
      id: o.id,
      image_id: o.imageId,
      category_id: o.categoryId,
      segmentation: [o.polygon],
      area: polygonArea(o.polygon),
      bbox: polygonBox(o.polygon),
      iscrowd: o.crowd ? 1 : 0,
    })),
  };
}

/** Right triangles (not mirror-symmetric, so a flip shows) and rectangles spread over a few images. */
export function syntheticScene() {
  const images = [
    { id: 1, fileName: 'a.png', width: 256, height: 200 },
    { id: 2, fileName: 'b.png', width: 176, height: 240 },
    { id: 3, fileName: 'c.png', width: 240, height: 160 },
    { id: 4, fileName: 'empty.png', width: 120, height: 104 },
  ];
  const triangle = (x: number, y: number, w: number, h: number) => [x, y, x + w, y, x, y + h];
  const rectangle = (x: number, y: number, w: number, h: number) => [x, y, x + w, y, x + w, y + h, x, y + h];
  const objects: SyntheticObject[] = [
    { id: 11, imageId: 1, categoryId: 1, polygon: triangle(20, 30, 90, 60) },
    { id: 12, imageId: 1, categoryId: 2, polygon: rectangle(150, 100, 50, 70) },
    { id: 13, imageId: 1, categoryId: 1, polygon: rectangle(120, 20, 6, 6) }, // area 36 < 100
    { id: 14, imageId: 1, categoryId: 2, polygon: rectangle(200, 10, 40, 4) }, // side 4 < 5
    { id: 21, imageId: 2, categoryId: 1, polygon: triangle(30, 40, 120, 150) },
    { id: 22, imageId: 2, categoryId: 2, polygon: rectangle(100, 180, 60, 40), crowd: true },
    { id: 31, imageId: 3, categoryId: 1, polygon: triangle(60, 50, 30, 40) },
    { id: 32, imageId: 3, categoryId: 1, polygon: rectangle(140, 60, 80, 80) },
  ];
  return { images, objects, json: instancesJson(images, objects, [1, 2]) };
}
