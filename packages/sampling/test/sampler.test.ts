import { CocoDataset } from '@deepmask/coco';
import { describe, expect, it } from 'vitest';
import { createSampler, type PatchBatch, type SamplingConfigInput } from '../src/index.js';
import {
  coordinateImage,
  imagePointOf,
  insidePolygon,
  instancesJson,
  iou,
  memoryImages,
  positiveError,
  sameValues,
  syntheticScene,
} from './synthetic.js';

const scene = syntheticScene();
const dataset = CocoDataset.fromJson(scene.json, 'synthetic.json');
const pictures = Object.fromEntries(
  scene.images.map((i) => [i.fileName, coordinateImage(i.width, i.height)]),
);
const objectsById = new Map(scene.objects.map((o) => [o.id, o]));
const iSz = 64;
const L = 32;

function sampler(config: Partial<SamplingConfigInput> = {}, seed = 7, images = memoryImages(pictures)) {
  return createSampler({
    dataset,
    images: images.source,
    decoder: images.decoder,
    config: {
      inputSizePx: iSz,
      maskSizePx: 16,
      labelSizePx: L,
      batchSize: 32,
      meanColour: [1, 2, 3],
      ...config,
    },
    seed,
  });
}

async function batches(s: ReturnType<typeof sampler>, count: number, from = 0): Promise<PatchBatch[]> {
  const out: PatchBatch[] = [];
  for (let i = from; i < from + count; i++) out.push(await s.batch(i));
  return out;
}

/** The object's mask through the placement, by point-in-polygon at each label pixel centre. */
function expectedMask(polygon: number[], placement: Parameters<typeof imagePointOf>[0]): Float32Array {
  const out = new Float32Array(L * L);
  for (let b = 0; b < L; b++) {
    for (let a = 0; a < L; a++) {
      const [x, y] = imagePointOf(placement, iSz, ((a + 0.5) * iSz) / L, ((b + 0.5) * iSz) / L);
      out[b * L + a] = insidePolygon(polygon, x, y) ? 1 : -1;
    }
  }
  return out;
}

describe('createSampler on a synthetic scene', () => {
  const s = sampler();
  const canonical = (128 * iSz) / 224;
  const jitter = (16 * iSz) / 224;
  const negativeOffset = (32 * iSz) / 224;

  it('follows the positive and negative rules on thousands of patches', async () => {
    const all = (await batches(s, 100)).flatMap((batch) => batch.samples);
    const positives = all.filter((p) => p.label === 1);
    const negatives = all.filter((p) => p.label === -1);
    expect(all.length).toBe(3200);
    expect(Math.abs(positives.length - 1600)).toBeLessThan(150);
    expect(new Set(positives.map((p) => p.annotationId))).toEqual(new Set([11, 12, 21, 31, 32]));
    let maxOffset = 0;
    let maxScaleLog2 = 0;
    for (const p of positives) {
      const object = dataset.annotations.find((a) => a.id === p.annotationId)!;
      expect(object.image_id).toBe(p.imageId);
      const error = positiveError(p, object.bbox, canonical);
      maxOffset = Math.max(maxOffset, error.offset);
      maxScaleLog2 = Math.max(maxScaleLog2, error.scaleLog2);
    }
    expect(maxOffset).toBeLessThanOrEqual(jitter + 1e-9);
    expect(maxOffset).toBeGreaterThan(jitter * 0.95);
    expect(maxScaleLog2).toBeLessThanOrEqual(0.25 + 1e-9);
    expect(maxScaleLog2).toBeGreaterThan(0.24);
    const violations = negatives.filter(
      (p) =>
        p.annotationId !== null ||
        // Every object of the image, the crowd, tiny and thin ones included.
        dataset.annotationsOf(p.imageId).some((object) => {
          const error = positiveError(p, object.bbox, canonical);
          return error.offset < negativeOffset && error.scaleLog2 < 1;
        }),
    );
    expect(violations).toEqual([]);
    expect(new Set(negatives.map((p) => p.imageId))).toEqual(new Set([1, 2, 3, 4]));
    const flips = all.filter((p) => p.flipped).length;
    expect(Math.abs(flips - 1600)).toBeLessThan(150);
  });

  it('targets the centred object mask through the same transform, flipped with the patch', async () => {
    let positives = 0;
    let flipped = 0;
    for (const batch of await batches(s, 20, 200)) {
      batch.samples.forEach((p, k) => {
        const target = batch.maskTargets.subarray(k * L * L, (k + 1) * L * L);
        if (p.label === -1) {
          expect(target.every((v) => v === -1)).toBe(true);
          return;
        }
        positives++;
        const polygon = objectsById.get(p.annotationId!)!.polygon;
        expect(iou(target, expectedMask(polygon, p))).toBeGreaterThan(0.9);
        if (p.flipped) {
          flipped++;
          // The same patch unflipped is a different (mirrored) triangle: the flip really reached the mask.
          if (polygon.length === 6)
            expect(iou(target, expectedMask(polygon, { ...p, flipped: false }))).toBeLessThan(0.6);
        }
      });
    }
    expect(positives).toBeGreaterThan(250);
    expect(flipped).toBeGreaterThan(100);
  });

  it('cuts the pixels under the placement (bilinear, mirrored when flipped, mean colour outside)', async () => {
    let inside = 0;
    let outside = 0;
    for (const batch of await batches(s, 4, 300)) {
      batch.samples.forEach((p, k) => {
        const image = scene.images.find((i) => i.id === p.imageId)!;
        // A patch of scale s may read the image decoded at 1/2, 1/4 or 1/8 (k <= 1/s): allow k / 2 px of border.
        const margin = Math.max(0.5, 1 / p.scale);
        for (const [u, v] of [
          [3, 5],
          [32, 32],
          [60, 17],
        ]) {
          const [x, y] = imagePointOf(p, iSz, u + 0.5, v + 0.5);
          const at = ((k * iSz + v) * iSz + u) * 3;
          const value = Array.from(batch.patches.subarray(at, at + 3));
          // Pixel (x, y) holds (x, y, 200): linear, so bilinear sampling gives it back up to the shrunk
          // decode's rounding of block means (<= .5).
          if (x >= margin && x <= image.width - margin && y >= margin && y <= image.height - margin) {
            inside++;
            expect(Math.abs(value[0] - (x - 0.5))).toBeLessThanOrEqual(0.51);
            expect(Math.abs(value[1] - (y - 0.5))).toBeLessThanOrEqual(0.51);
            expect(value[2]).toBeCloseTo(200, 3);
          } else if (x < -margin || x > image.width + margin || y < -margin || y > image.height + margin) {
            outside++;
            expect(value).toEqual([1, 2, 3]);
          }
        }
      });
    }
    expect(inside).toBeGreaterThan(100);
    expect(outside).toBeGreaterThan(20);
  });

  it('is a pure function of (seed, index)', async () => {
    const other = sampler();
    const later = await other.batch(9);
    await other.batch(2);
    const a = await s.batch(9);
    expect(later.samples).toEqual(a.samples);
    expect(sameValues(later.patches, a.patches)).toBe(true);
    expect(sameValues(later.maskTargets, a.maskTargets)).toBe(true);
    expect(sameValues(later.labels, a.labels)).toBe(true);
    const reseeded = await sampler({}, 8).batch(9);
    expect(reseeded.samples).not.toEqual(a.samples);
    expect((await s.batch(10)).samples).not.toEqual(a.samples);
    const { batch } = s;
    expect((await batch(9)).samples).toEqual(a.samples);
  });

  it('prefetches the same batches in order', async () => {
    const iterator = s.prefetch(40, 3);
    for (let i = 40; i < 44; i++) {
      const { value } = await iterator.next();
      expect(value.samples).toEqual((await s.batch(i)).samples);
    }
    await iterator.return(undefined as never);
  });

  it('prepares the next batches while the consumer trains on the current one', async () => {
    const prefetching = sampler({ batchSize: 4 });
    const events: string[] = [];
    const batch = prefetching.batch;
    // prefetch asks for its batches through the sampler's own `batch`: record when each is asked and done.
    Object.assign(prefetching, {
      batch: (i: number) => {
        events.push(`ask ${i}`);
        return batch(i).then((b) => {
          events.push(`done ${i}`);
          return b;
        });
      },
    });
    const iterator = prefetching.prefetch(0, 2);
    for (let step = 0; step < 3; step++) {
      await iterator.next();
      events.push(`train ${step}`);
      await new Promise((resolve) => setTimeout(resolve, 100)); // a training step
      events.push(`trained ${step}`);
    }
    await iterator.return(undefined as never);
    // Batch k + 1 is asked for before step k starts and done before it ends: decoding overlapped training.
    for (let step = 0; step < 3; step++) {
      expect(events.indexOf(`ask ${step + 1}`)).toBeLessThan(events.indexOf(`train ${step}`));
      expect(events.indexOf(`done ${step + 1}`)).toBeLessThan(events.indexOf(`trained ${step}`));
    }
    // Never more than `depth` batches ahead of the consumer.
    expect(events.indexOf('ask 3')).toBeGreaterThan(events.indexOf('train 1'));
  });

  it('alternates one-head batches: mask batches of positives, 50/50 score batches', async () => {
    const alternating = sampler({ batchMode: 'alternating', batchSize: 16 });
    const all = await batches(alternating, 200);
    const mask = all.filter((b) => b.heads === 'mask');
    const score = all.filter((b) => b.heads === 'score');
    expect(mask.length + score.length).toBe(200);
    expect(Math.abs(mask.length - 100)).toBeLessThan(25);
    for (const b of mask) expect(b.labels.every((l) => l === 1)).toBe(true);
    const scorePositives = score.flatMap((b) => Array.from(b.labels)).filter((l) => l === 1).length;
    expect(Math.abs(scorePositives / (score.length * 16) - 0.5)).toBeLessThan(0.05);
    expect((await s.batch(0)).heads).toBe('joint');
  });

  it('balances categories on request', async () => {
    // Category 2 has one eligible object (12) among five; balanced choice gives it about half the positives.
    const share = async (objectChoice: 'uniform' | 'category-balanced') => {
      const positives = (await batches(sampler({ objectChoice, positiveFraction: 1 }), 20))
        .flatMap((b) => b.samples)
        .filter((p) => p.label === 1);
      return positives.filter((p) => p.categoryId === 2).length / positives.length;
    };
    expect(Math.abs((await share('category-balanced')) - 0.5)).toBeLessThan(0.06);
    expect(Math.abs((await share('uniform')) - 0.2)).toBeLessThan(0.06);
  });

  it('pads with the estimated dataset mean colour', async () => {
    const flat = (value: number, width: number, height: number) => ({
      width,
      height,
      data: new Uint8Array(width * height * 3).fill(value),
    });
    const json = instancesJson(
      [
        { id: 1, fileName: 'dark.png', width: 40, height: 30 },
        { id: 2, fileName: 'light.png', width: 20, height: 20 },
      ],
      [],
      [1],
    );
    const images = memoryImages({ 'dark.png': flat(10, 40, 30), 'light.png': flat(50, 20, 20) });
    const flatSampler = createSampler({
      dataset: CocoDataset.fromJson(json, 'flat.json'),
      images: images.source,
      decoder: images.decoder,
      config: { inputSizePx: 32, maskSizePx: 8, positiveFraction: 0, batchSize: 4 },
      seed: 1,
    });
    // The mean of the images' means, each image counting once.
    expect(await flatSampler.meanColour()).toEqual([30, 30, 30]);
    const batch = await flatSampler.batch(0);
    expect(batch.patches.some((v) => v === 30)).toBe(true);
  });
});

describe('bad data', () => {
  it('names a missing file', async () => {
    const s = sampler({}, 1, memoryImages(pictures, { missing: ['b.png'] }));
    await expect(batches(s, 10)).rejects.toThrow(/'b\.png'/);
  });

  it('names an image whose size disagrees with the instances file', async () => {
    const wrong = { ...pictures, 'c.png': coordinateImage(100, 100) };
    await expect(batches(sampler({}, 1, memoryImages(wrong)), 10)).rejects.toThrow(
      /'c\.png' \(id 3\) decodes to 100x100, but the instances file says 240x160/,
    );
  });

  it('skips bad images with one warning each when asked, deterministically', async () => {
    const bad = () => memoryImages(pictures, { corrupt: ['a.png'], missing: ['c.png'] });
    const images = bad();
    const s = sampler({ onBadImage: 'skip' }, 1, images);
    const all = await batches(s, 10);
    const used = new Set(all.flatMap((b) => b.samples.map((p) => p.fileName)));
    expect(used).toEqual(new Set(['b.png', 'empty.png']));
    expect(s.warnings.map((w) => [w.kind, w.fileName])).toEqual(
      expect.arrayContaining([
        ['bad-image', 'a.png'],
        ['bad-image', 'c.png'],
      ]),
    );
    expect(s.warnings.length).toBe(2);
    // Remembered as bad: not read again.
    const reads = images.reads.get('c.png');
    await batches(s, 5, 10);
    expect(images.reads.get('c.png')).toBe(reads);
    expect((await sampler({ onBadImage: 'skip' }, 1, bad()).batch(7)).samples).toEqual(all[7].samples);
  });

  it('names an annotation with an empty polygon (at load) and skips a mask that does not fit its image', () => {
    const json = structuredClone(scene.json);
    json.annotations[4].segmentation = [];
    expect(() => CocoDataset.fromJson(json, 'bad.json')).toThrow(/annotation id 21.*empty/);
    const misfit = structuredClone(scene.json) as { annotations: Record<string, unknown>[] };
    misfit.annotations[0].segmentation = { size: [10, 10], counts: [100] };
    const s = createSampler({
      dataset: CocoDataset.fromJson(misfit, 'misfit.json'),
      images: memoryImages(pictures).source,
      decoder: memoryImages(pictures).decoder,
      config: { inputSizePx: iSz, maskSizePx: 16 },
      seed: 1,
    });
    expect(s.warnings).toEqual([
      expect.objectContaining({
        kind: 'unusable-annotation',
        annotationId: 11,
        message: expect.stringMatching(/10x10/),
      }),
    ]);
  });

  it('rejects a bad seed or index by name', async () => {
    expect(() => sampler({}, -1)).toThrow(/seed/);
    await expect(sampler().batch(1.5)).rejects.toThrow(/batch index/);
  });
});
