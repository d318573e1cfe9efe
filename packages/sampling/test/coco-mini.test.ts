import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { CocoDataset, rleToRowMajor } from '@deepmask/coco';
import { describe, expect, it } from 'vitest';
import { createSampler, type PatchBatch } from '../src/index.js';
import { directorySource, sharpDecoder } from '../src/node.js';
import { imagePointOf, iou, positiveError } from './synthetic.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const shared = process.env.DEEPMASK_SHARED ?? path.resolve(repoRoot, '../shared');
const cocoMini = path.join(shared, 'data/coco-mini');
const present = existsSync(path.join(cocoMini, 'annotations/instances_train2017.json'));
if (!present) console.warn(`coco-mini tests skipped: no ${cocoMini} (set DEEPMASK_SHARED)`);

describe.skipIf(!present)('createSampler on coco-mini train (sharp)', () => {
  const iSz = 224;
  const L = 56;
  const loadDataset = () =>
    CocoDataset.fromJson(
      readFileSync(path.join(cocoMini, 'annotations/instances_train2017.json'), 'utf8'),
      'instances_train2017.json',
    );
  const dataset = present ? loadDataset() : (undefined as never);
  const annotations = present ? new Map(dataset.annotations.map((a) => [a.id, a])) : new Map();
  const make = (seed: number) =>
    createSampler({
      dataset,
      images: directorySource(path.join(cocoMini, 'train2017')),
      decoder: sharpDecoder(),
      config: { inputSizePx: iSz, maskSizePx: L },
      seed,
    });
  const sampler = present ? make(2015) : (undefined as never);
  const batches: PatchBatch[] = [];

  it('samples 2048 patches by the paper rules', async () => {
    for (let i = 0; i < 64; i++) batches.push(await sampler.batch(i));
    const all = batches.flatMap((b) => b.samples);
    expect(all.length).toBe(2048);
    expect(sampler.warnings).toEqual([]);
    const bad: string[] = [];
    for (const p of all) {
      if (p.label === 1) {
        const a = annotations.get(p.annotationId)!;
        const error = positiveError(p, a.bbox, 128);
        if (a.iscrowd || a.area < 100 || Math.min(a.bbox[2], a.bbox[3]) < 5) bad.push(`ineligible ${a.id}`);
        if (a.image_id !== p.imageId) bad.push(`wrong image for ${a.id}`);
        if (error.offset > 16 + 1e-9 || error.scaleLog2 > 0.25 + 1e-9)
          bad.push(`positive ${a.id} ${JSON.stringify(error)}`);
      } else {
        for (const a of dataset.annotationsOf(p.imageId)) {
          const error = positiveError(p, a.bbox, 128);
          if (error.offset < 32 && error.scaleLog2 < 1)
            bad.push(`negative vs ${a.id} ${JSON.stringify(error)}`);
        }
      }
    }
    expect(bad).toEqual([]);
    const positives = all.filter((p) => p.label === 1).length;
    expect(Math.abs(positives / all.length - 0.5)).toBeLessThan(0.04);
    const flipped = all.filter((p) => p.flipped).length;
    expect(Math.abs(flipped / all.length - 0.5)).toBeLessThan(0.04);
    // Negatives near crowds count: some image with a crowd region must have given negatives.
    const crowdImages = new Set(dataset.annotations.filter((a) => a.iscrowd).map((a) => a.image_id));
    expect(all.some((p) => p.label === -1 && crowdImages.has(p.imageId))).toBe(true);
  });

  it("targets each positive's own mask through its transform", async () => {
    const ious: number[] = [];
    let flippedPositives = 0;
    for (const batch of batches.slice(0, 30)) {
      batch.samples.forEach((p, k) => {
        if (p.label !== 1) return;
        if (p.flipped) flippedPositives++;
        const a = annotations.get(p.annotationId)!;
        const image = dataset.image(p.imageId);
        // Independently: decode the object's RLE to a row-major bitmap, read it at each label pixel centre.
        const mask = rleToRowMajor(dataset.annotationRle(a));
        const expected = new Float32Array(L * L);
        for (let b = 0; b < L; b++) {
          for (let c = 0; c < L; c++) {
            const [x, y] = imagePointOf(p, iSz, ((c + 0.5) * iSz) / L, ((b + 0.5) * iSz) / L).map(Math.floor);
            const inside =
              x >= 0 && y >= 0 && x < image.width && y < image.height && mask[y * image.width + x] === 1;
            expected[b * L + c] = inside ? 1 : -1;
          }
        }
        ious.push(iou(batch.maskTargets.subarray(k * L * L, (k + 1) * L * L), expected));
      });
    }
    expect(ious.length).toBeGreaterThan(400);
    // Flipped positives are in there, checked against the mirrored transform.
    expect(flippedPositives).toBeGreaterThan(150);
    expect(Math.min(...ious)).toBeGreaterThan(0.98);
  });

  it('gives the same batch again from a fresh sampler with the same seed', async () => {
    const again = await make(2015).batch(37);
    expect(again.samples).toEqual(batches[37].samples);
    expect(Buffer.from(again.patches.buffer).equals(Buffer.from(batches[37].patches.buffer))).toBe(true);
    expect(Buffer.from(again.maskTargets.buffer).equals(Buffer.from(batches[37].maskTargets.buffer))).toBe(
      true,
    );
  });
});
