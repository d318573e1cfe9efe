import { rleArea, rleFromCocoJson, rleFromRowMajor } from '@deepmask/coco';
import { createDeepMask, defaultConfig } from '@deepmask/model';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DenseMaskModel, type Proposal, proposeMasks, toCocoResults } from '../src/index.js';
import { BACKENDS, useBackend } from './backends.js';
import { cellRows, fakeModel, imageWithSquares } from './fake-model.js';

/** Row-major mask of the box `[x, y, w, h]` in a `height x width` image. */
function boxMask(height: number, width: number, [x0, y0, w, h]: number[]) {
  const mask = new Uint8Array(height * width);
  for (let y = y0; y < y0 + h; y++) mask.fill(1, y * width + x0, y * width + x0 + w);
  return rleFromRowMajor(mask, height, width);
}

const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));

describe.each(BACKENDS)('proposeMasks on %s with a model of known outputs', (backend) => {
  // 96 x 128, a 32-px white square at x 64..95, y 32..63; patches of 32 px at scale 1.
  let image: tf.Tensor3D;
  beforeAll(async () => {
    await useBackend(backend);
    image = imageWithSquares(96, 128, [[64, 32, 32, 32]]);
  });
  afterAll(() => image.dispose());

  it('finds the square: the cell whose patch is the square, then its half-overlapping neighbours', async () => {
    const { model } = fakeModel();
    const { proposals } = await proposeMasks(model, image, { scales: [1], topN: 5 });
    // padded (16 j, 16 i) = square + 16 px border -> cell (3, 5), centred on (80, 48)
    expect(proposals[0]).toMatchObject({
      x: 80,
      y: 48,
      scale: 1,
      bbox: [64, 32, 32, 32],
      patchBox: [64, 32, 32, 32],
    });
    expect(proposals[0].score).toBeCloseTo(sigmoid(127 / 16), 6);
    expect(proposals[0].rle).toEqual(boxMask(96, 128, [64, 32, 32, 32]));
    // four neighbours with half the square (mean 127.5), ties by row then column
    expect(proposals.slice(1).map((p) => [p.x, p.y])).toEqual([
      [80, 32],
      [64, 48],
      [96, 48],
      [80, 64],
    ]);
    for (const p of proposals.slice(1)) expect(p.score).toBeCloseTo(sigmoid(-0.5 / 16), 6);
  });

  it('clips masks at the image border and drops empty masks', async () => {
    const corner = imageWithSquares(64, 64, [[0, 0, 32, 32]]);
    const { model } = fakeModel();
    const { proposals } = await proposeMasks(model, corner, { scales: [1], topN: 1000 });
    corner.dispose();
    // cell (0, 0): patch [-16, -16, 32, 32] holds a quarter of the square (mean 63.75, mask logit > 0)
    const atCorner = proposals.find((p) => p.x === 0 && p.y === 0)!;
    expect(atCorner.bbox).toEqual([0, 0, 16, 16]);
    expect(atCorner.rle).toEqual(boxMask(64, 64, [0, 0, 16, 16]));
    // 5 x 5 cells; those that see no square have mean 0 and an empty mask
    expect(proposals.length).toBeLessThan(25);
    for (const p of proposals) expect(rleArea(p.rle)).toBeGreaterThan(0);
  });

  it('maps cells of a smaller scale back to image pixels', async () => {
    // 64-px square at (32, 32) in 128 x 128; at scale 0.5 it is the 32-px square at (16, 16)
    const big = imageWithSquares(128, 128, [[32, 32, 64, 64]]);
    const { model } = fakeModel();
    const { proposals } = await proposeMasks(model, big, { scales: [0.5], topN: 1 });
    big.dispose();
    expect(proposals[0]).toMatchObject({
      x: 64,
      y: 64,
      scale: 0.5,
      bbox: [32, 32, 64, 64],
      patchBox: [32, 32, 64, 64],
    });
  });

  it('gives the same proposals with scales batched as one at a time', async () => {
    const scene = imageWithSquares(150, 200, [
      [20, 30, 40, 40],
      [120, 60, 64, 50],
      [5, 100, 90, 45],
    ]);
    const single = fakeModel();
    const batched = fakeModel();
    const options = { topN: 200, keepMaskLogits: true, scoreMaps: true };
    const one = await proposeMasks(single.model, scene, { ...options, scaleBatching: false });
    const all = await proposeMasks(batched.model, scene, {
      ...options,
      scaleBatching: { maxPixels: 1e9, maxPaddingFraction: 1 },
    });
    scene.dispose();
    expect(single.calls.dense).toEqual([1, 1, 1, 1, 1, 1, 1]);
    expect(batched.calls.dense).toEqual([7]);
    expect(all.proposals.length).toBeGreaterThan(50);
    expect(all.proposals).toEqual(one.proposals);
    expect(all.scoreMaps).toEqual(one.scoreMaps);
  });

  it('returns score maps per scale and the timings of each stage', async () => {
    const { model } = fakeModel();
    const { scoreMaps, timings } = await proposeMasks(model, image, {
      scales: [1, 0.5],
      topN: 3,
      scoreMaps: true,
    });
    expect(scoreMaps!.map((m) => [m.scale, m.rows, m.cols])).toEqual([
      [1, 7, 9],
      [0.5, 4, 5],
    ]);
    expect(scoreMaps![0].probabilities[3 * 9 + 5]).toBeCloseTo(sigmoid(127 / 16), 6);
    expect(scoreMaps![1].cellSizePx).toEqual([32, 32]);
    for (const key of ['denseMs', 'rankMs', 'embedMs', 'decodeMs', 'pasteMs', 'totalMs'] as const) {
      expect(timings[key]).toBeGreaterThanOrEqual(0);
    }
  });

  it('embeds and decodes only the top N of a 640 x 480 image at scale 2, and leaks no tensors', async () => {
    const scene = imageWithSquares(480, 640, [[100, 100, 200, 150]]);
    const { model, calls } = fakeModel();
    await proposeMasks(model, scene, { scales: [2], topN: 50 });
    const before = tf.memory().numTensors;
    for (let k = 0; k < 3; k++)
      await proposeMasks(model, scene, { scales: [2, 0.5], topN: 300, decodeBatchSize: 128 });
    expect(tf.memory().numTensors).toBe(before);
    const none = await proposeMasks(model, scene, { scales: [1], topN: 0 });
    scene.dispose();
    expect(none.proposals).toEqual([]);
    expect(calls.decode).toEqual([50, ...Array(3).fill([128, 128, 44]).flat()]);
    // Scale 2 (1,312 x 992 padded) exceeds the pixel budget: two forward passes per run. The top 300 all
    // lie at scale 2 (inside the square; ties go to the first scale), so scale 0.5 embeds no cell.
    expect(calls.dense).toEqual([1, 1, 1, 1, 1, 1, 1, 1]);
    expect(calls.embed).toEqual([50, 300, 300, 300]);
  });

  it('leaks no tensors when the model fails between the scales', async () => {
    const { model } = fakeModel();
    let passes = 0;
    const failing: DenseMaskModel = {
      ...model,
      predictDenseScores(images) {
        passes += 1;
        if (passes === 2) throw new Error('second pass fails');
        return model.predictDenseScores(images);
      },
    };
    const before = tf.memory().numTensors;
    await expect(proposeMasks(failing, image, { scales: [1, 0.5], scaleBatching: false })).rejects.toThrow(
      'second pass fails',
    );
    expect(tf.memory().numTensors).toBe(before);
  });

  for (const head of ['paper', 'shared'] as const) {
    it(`${head} heads: embedding only the top N gives the proposals of the full dense embedding`, async () => {
      const config = defaultConfig('tiny', { head, inputSizePx: 32, maskSizePx: 8, scoreHiddenSizes: [16] });
      const model = createDeepMask(config, { seed: 4 });
      // Reference: every cell's embedding from predictDense; the chosen rows gathered from it.
      const dense: DenseMaskModel = {
        config: model.config,
        predictDenseScores(images) {
          const { maskEmbedding, scoreLogits } = model.predictDense(images);
          return { scoreLogits, maskFeatures: maskEmbedding };
        },
        embedCells: cellRows,
        decodeMasks: (embedding) => model.decodeMasks(embedding),
      };
      const scene = imageWithSquares(150, 200, [
        [20, 30, 40, 40],
        [120, 60, 64, 50],
      ]);
      const options = { topN: 150, keepMaskLogits: true, scoreMaps: true };
      const fast = await proposeMasks(model, scene, options);
      const reference = await proposeMasks(dense, scene, options);
      scene.dispose();
      model.dispose();
      const withoutLogits = (ps: Proposal[]) => ps.map(({ maskLogits, ...p }) => p);
      expect(fast.proposals.length).toBeGreaterThan(100);
      expect(withoutLogits(fast.proposals)).toEqual(withoutLogits(reference.proposals));
      expect(fast.scoreMaps).toEqual(reference.scoreMaps);
      const worst = Math.max(
        ...fast.proposals.map((p, k) =>
          Math.max(...p.maskLogits!.map((v, i) => Math.abs(v - reference.proposals[k].maskLogits![i]))),
        ),
      );
      expect(worst).toBeLessThan(1e-4);
    });
  }

  it('feeds a real model the image padded by half a patch of its mean colour, and keeps its score map', async () => {
    // 96 x 128 padded by 16 is 128 x 160, already a multiple of the stride: the whole input is that padding
    const model = createDeepMask(defaultConfig('tiny', { inputSizePx: 32, maskSizePx: 8 }), { seed: 3 });
    const mean = model.config.pixelMean;
    const { scoreMaps } = await proposeMasks(model, image, { scales: [1], topN: 1, scoreMaps: true });
    const expected = tf.tidy(() => {
      const centred = tf.sub(tf.cast(image, 'float32'), mean);
      const padded = tf.add(
        tf.pad(centred, [
          [16, 16],
          [16, 16],
          [0, 0],
        ]),
        mean,
      ) as tf.Tensor3D;
      return tf.sigmoid(model.predictDense(tf.expandDims(padded, 0)).scoreLogits).dataSync();
    });
    model.dispose();
    expect(scoreMaps![0].probabilities.length).toBe(expected.length);
    const worst = Math.max(...expected.map((p, k) => Math.abs(p - scoreMaps![0].probabilities[k])));
    expect(worst).toBeLessThan(1e-5);
  });

  it('reports progress per batch of scales and per decoded chunk, awaiting the callback', async () => {
    const { model } = fakeModel();
    const seen: string[] = [];
    await proposeMasks(model, image, {
      scales: [1, 0.5],
      topN: 50, // of 7 x 9 + 4 x 5 = 83 cells
      decodeBatchSize: 20,
      scaleBatching: false,
      onProgress: async ({ stage, done, total }) => {
        await new Promise((resolve) => setTimeout(resolve, 1));
        seen.push(`${stage} ${done}/${total}`);
      },
    });
    expect(seen).toEqual(['dense 1/2', 'dense 2/2', 'decode 20/50', 'decode 40/50', 'decode 50/50']);
  });

  it('writes COCO results that @deepmask/coco reads back', async () => {
    const { model } = fakeModel();
    const { proposals } = await proposeMasks(model, image, { scales: [1], topN: 2 });
    const results = toCocoResults(proposals, 42);
    expect(results[0]).toMatchObject({ image_id: 42, category_id: 1, bbox: [64, 32, 32, 32] });
    expect(typeof results[0].segmentation.counts).toBe('string');
    expect(rleFromCocoJson(results[0].segmentation)).toEqual(proposals[0].rle);
    expect(JSON.parse(JSON.stringify(results))[1].score).toBeCloseTo(proposals[1].score, 12);
  });

  it('names the argument that is wrong', async () => {
    const { model } = fakeModel();
    await expect(proposeMasks(model, image, { topN: -1 })).rejects.toThrow(/topN/);
    await expect(proposeMasks(model, image, { maskThreshold: 2 })).rejects.toThrow(/maskThreshold/);
    const gray = tf.zeros([8, 8, 1]) as tf.Tensor3D;
    await expect(proposeMasks(model, gray)).rejects.toThrow(/\[8,8,1\]/);
    gray.dispose();
  });
});
