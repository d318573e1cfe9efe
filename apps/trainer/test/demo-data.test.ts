import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CocoDataset, rleArea } from '@deepmask/coco';
import sharp from 'sharp';
import { afterAll, describe, expect, it } from 'vitest';
import { writeDemoDataset } from '../src/demo-data.js';

const root = mkdtempSync(join(tmpdir(), 'deepmask-demo-data-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const options = {
  trainImages: 12,
  valImages: 3,
  seed: 5,
  minSizePx: 96,
  maxSizePx: 128,
  minObjectPx: 20,
  maxObjectPx: 80,
};

describe('writeDemoDataset', () => {
  it('writes a COCO-format folder whose annotations match their images', async () => {
    const data = await writeDemoDataset(join(root, 'a'), options);
    const json = JSON.parse(readFileSync(data.train.ann, 'utf8'));
    const dataset = CocoDataset.fromJson(json, data.train.ann);
    expect(dataset.images).toHaveLength(12);
    const annotations = dataset.images.flatMap((image) => dataset.annotationsOf(image.id));
    expect(annotations.length).toBeGreaterThanOrEqual(12 * 2 - 6);
    // Both segmentation forms of real COCO data: polygons (unoccluded) and RLE (occluded).
    expect(annotations.some((a) => Array.isArray(a.segmentation))).toBe(true);
    expect(annotations.some((a) => !Array.isArray(a.segmentation))).toBe(true);
    for (const annotation of annotations) {
      // The stored area is the visible mask's pixel count.
      expect(rleArea(dataset.annotationRle(annotation))).toBe(annotation.area);
    }
    const first = dataset.images[0];
    const meta = await sharp(join(data.train.dir, first.file_name!)).metadata();
    expect([meta.width, meta.height, meta.format]).toEqual([first.width, first.height, 'jpeg']);
    expect(JSON.parse(readFileSync(data.val.ann, 'utf8')).images).toHaveLength(3);
  });

  it('depends on the seed alone', async () => {
    const a = await writeDemoDataset(join(root, 'b'), options);
    const b = await writeDemoDataset(join(root, 'c'), options);
    const c = await writeDemoDataset(join(root, 'd'), { ...options, seed: 6 });
    expect(readFileSync(a.train.ann, 'utf8')).toBe(readFileSync(b.train.ann, 'utf8'));
    expect(readFileSync(a.train.ann, 'utf8')).not.toBe(readFileSync(c.train.ann, 'utf8'));
  });
});
