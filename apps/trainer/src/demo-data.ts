import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  rleArea,
  rleFromRowMajor,
  rleFromSegmentation,
  rleToBbox,
  rleToCocoJson,
  rleToRowMajor,
} from '@deepmask/coco';
import sharp from 'sharp';
import { seededRandom } from './random.js';

export interface DemoDataOptions {
  trainImages: number;
  valImages: number;
  seed: number;
  /** Image sides are drawn from this range, in pixels. */
  minSizePx: number;
  maxSizePx: number;
  /** Largest side of an object, in pixels. */
  minObjectPx: number;
  maxObjectPx: number;
}

export interface DemoDataset {
  /** `--data` and `--ann` of each split. */
  train: { dir: string; ann: string };
  val: { dir: string; ann: string };
}

const SHAPES = ['ellipse', 'rectangle', 'triangle', 'blob'] as const;
type ShapeName = (typeof SHAPES)[number];
type Rgb = [number, number, number];
type Random = () => number;

/**
 * Writes a synthetic COCO-format dataset: textured shapes (ellipses, rectangles, triangles, blobs) of
 * varied sizes, overlapping, on textured backgrounds. Unoccluded objects are stored as polygons, occluded
 * ones as RLE of their visible part, so both segmentation forms of real COCO data are exercised.
 */
export async function writeDemoDataset(root: string, options: DemoDataOptions): Promise<DemoDataset> {
  const dataset: DemoDataset = {
    train: { dir: join(root, 'train'), ann: join(root, 'annotations', 'instances_train.json') },
    val: { dir: join(root, 'val'), ann: join(root, 'annotations', 'instances_val.json') },
  };
  await mkdir(join(root, 'annotations'), { recursive: true });
  await writeSplit(dataset.train, options.trainImages, 'jpg', seededRandom(options.seed), options);
  await writeSplit(dataset.val, options.valImages, 'png', seededRandom(options.seed + 7919), options);
  return dataset;
}

async function writeSplit(
  split: { dir: string; ann: string },
  count: number,
  format: 'jpg' | 'png',
  random: Random,
  options: DemoDataOptions,
): Promise<void> {
  await mkdir(split.dir, { recursive: true });
  const images: object[] = [];
  const annotations: object[] = [];
  for (let id = 1; id <= count; id++) {
    const width = randomInt(random, options.minSizePx, options.maxSizePx);
    const height = randomInt(random, options.minSizePx, options.maxSizePx);
    const scene = drawScene(random, width, height, options);
    const fileName = `${String(id).padStart(6, '0')}.${format}`;
    const image = sharp(scene.pixels, { raw: { width, height, channels: 3 } });
    await (format === 'jpg' ? image.jpeg({ quality: 92 }) : image.png()).toFile(join(split.dir, fileName));
    images.push({ id, file_name: fileName, width, height });
    for (const object of scene.objects) {
      annotations.push({ ...object, id: annotations.length + 1, image_id: id, iscrowd: 0 });
    }
  }
  const categories = SHAPES.map((name, i) => ({ id: i + 1, name, supercategory: 'shape' }));
  await writeFile(split.ann, JSON.stringify({ images, annotations, categories }));
}

interface SceneObject {
  category_id: number;
  segmentation: number[][] | { size: [number, number]; counts: string };
  area: number;
  bbox: [number, number, number, number];
}

function drawScene(random: Random, width: number, height: number, options: DemoDataOptions) {
  const pixels = new Uint8Array(width * height * 3);
  paintTexture(pixels, width, height, randomTexture(random), undefined);
  const objectCount = randomInt(random, 2, 5);
  const shapes: { category: number; polygon: number[]; mask: Uint8Array }[] = [];
  for (let k = 0; k < objectCount; k++) {
    const shape = SHAPES[randomInt(random, 0, SHAPES.length - 1)];
    const sizePx = options.minObjectPx * (options.maxObjectPx / options.minObjectPx) ** random();
    const polygon = shapePolygon(
      random,
      shape,
      Math.min(sizePx, 0.9 * Math.min(width, height)),
      width,
      height,
    );
    const mask = rleToRowMajor(rleFromSegmentation([polygon], height, width));
    paintTexture(pixels, width, height, randomTexture(random), mask);
    shapes.push({ category: SHAPES.indexOf(shape) + 1, polygon, mask });
  }
  const objects: SceneObject[] = [];
  shapes.forEach((shape, k) => {
    const visible = shape.mask.slice();
    for (const later of shapes.slice(k + 1))
      for (let p = 0; p < visible.length; p++) visible[p] &= 1 - later.mask[p];
    const rle = rleFromRowMajor(visible, height, width);
    const area = rleArea(rle);
    if (area === 0) return;
    const occluded = area < rleArea(rleFromRowMajor(shape.mask, height, width));
    objects.push({
      category_id: shape.category,
      segmentation: occluded ? rleToCocoJson(rle) : [shape.polygon],
      area,
      bbox: rleToBbox(rle),
    });
  });
  return { pixels, objects };
}

/** A closed polygon `[x0, y0, x1, y1, ...]` of largest side about `sizePx`, placed anywhere in the image. */
function shapePolygon(
  random: Random,
  shape: ShapeName,
  sizePx: number,
  width: number,
  height: number,
): number[] {
  const aspect = 0.5 + random();
  const [w, h] = aspect > 1 ? [sizePx, sizePx / aspect] : [sizePx * aspect, sizePx];
  const cx = w / 2 + random() * Math.max(1, width - w);
  const cy = h / 2 + random() * Math.max(1, height - h);
  const angle = shape === 'ellipse' || shape === 'blob' ? 0 : (random() - 0.5) * 0.8;
  let points: [number, number][];
  if (shape === 'rectangle') {
    points = [
      [-0.5, -0.5],
      [0.5, -0.5],
      [0.5, 0.5],
      [-0.5, 0.5],
    ];
  } else if (shape === 'triangle') {
    points = [
      [random() - 0.5, -0.5],
      [0.5, 0.5],
      [-0.5, 0.5],
    ];
  } else {
    const harmonics =
      shape === 'blob' ? [2, 3, 5].map((k) => ({ k, a: 0.08 + 0.1 * random(), phase: 6.28 * random() })) : [];
    points = Array.from({ length: 40 }, (_, i) => {
      const theta = (2 * Math.PI * i) / 40;
      const radius =
        0.5 * (1 + harmonics.reduce((sum, { k, a, phase }) => sum + a * Math.sin(k * theta + phase), 0));
      return [radius * Math.cos(theta), radius * Math.sin(theta)] as [number, number];
    });
  }
  const cos = Math.cos(angle);
  const sin = Math.sin(angle);
  return points.flatMap(([u, v]) => {
    const x = u * w * cos - v * h * sin + cx;
    const y = u * w * sin + v * h * cos + cy;
    // Rounded as stored in the JSON, so that the painted mask is the one the annotation describes.
    return [Math.min(width, Math.max(0, x)), Math.min(height, Math.max(0, y))].map(
      (v) => Math.round(v * 100) / 100,
    );
  });
}

interface Texture {
  colors: [Rgb, Rgb];
  /** Mix of the two colours at a pixel, in [0, 1]. */
  pattern: (x: number, y: number) => number;
  grain: number;
  random: Random;
}

function randomTexture(random: Random): Texture {
  const colors: [Rgb, Rgb] = [randomColor(random), randomColor(random)];
  const period = 3 + random() * 12;
  const theta = random() * Math.PI;
  const [dx, dy] = [Math.cos(theta), Math.sin(theta)];
  const kind = randomInt(random, 0, 3);
  const patterns = [
    (x: number, y: number) => 0.5 + 0.5 * Math.sin(((x * dx + y * dy) * 2 * Math.PI) / period),
    (x: number, y: number) => (Math.floor(x / period) + Math.floor(y / period)) % 2,
    valueNoise(random, period * 2),
    (x: number, y: number) =>
      Math.hypot((x % period) - period / 2, (y % period) - period / 2) < period / 3 ? 1 : 0,
  ];
  return { colors, pattern: patterns[kind], grain: 6 + random() * 14, random };
}

function valueNoise(random: Random, cellPx: number): (x: number, y: number) => number {
  const grid = Array.from({ length: 64 * 64 }, () => random());
  const at = (i: number, j: number) => grid[(((i % 64) + 64) % 64) * 64 + (((j % 64) + 64) % 64)];
  return (x, y) => {
    const u = x / cellPx;
    const v = y / cellPx;
    const [i, j] = [Math.floor(v), Math.floor(u)];
    const [fv, fu] = [v - i, u - j];
    const top = at(i, j) * (1 - fu) + at(i, j + 1) * fu;
    const bottom = at(i + 1, j) * (1 - fu) + at(i + 1, j + 1) * fu;
    return top * (1 - fv) + bottom * fv;
  };
}

function paintTexture(
  pixels: Uint8Array,
  width: number,
  height: number,
  texture: Texture,
  mask?: Uint8Array,
): void {
  const [a, b] = texture.colors;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const p = y * width + x;
      if (mask !== undefined && mask[p] === 0) continue;
      const t = texture.pattern(x, y);
      const noise = (texture.random() - 0.5) * texture.grain;
      for (let c = 0; c < 3; c++) pixels[3 * p + c] = clampByte(a[c] * (1 - t) + b[c] * t + noise);
    }
  }
}

function randomColor(random: Random): Rgb {
  return [randomInt(random, 0, 255), randomInt(random, 0, 255), randomInt(random, 0, 255)];
}

function randomInt(random: Random, min: number, max: number): number {
  return min + Math.floor(random() * (max - min + 1));
}

function clampByte(v: number): number {
  return v < 0 ? 0 : v > 255 ? 255 : Math.round(v);
}
