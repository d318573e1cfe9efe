import { maskIou, rleFromRowMajor } from '@deepmask/coco';
import { deepMaskLoss } from '@deepmask/loss';
import { createDeepMask, type DeepMask, defaultConfig } from '@deepmask/model';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { proposeMasks } from '../src/index.js';
import { useBackend } from './backends.js';

// The tiny model sees 64-px patches; a positive holds a square of about 36 px (the paper's 128 of 224)
// at its centre, a negative holds no square, one far off centre, or one of the wrong size.
const PATCH = 64;
const MASK = 16;
const CANONICAL = 36;

/** A seeded generator of uniform numbers in [0, 1) (mulberry32). */
function random(seed: number) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Dark noisy background with one bright square `[x, y, side]` (pixels, may cross the border). */
function paint(pixels: Float32Array, offset: number, size: number, rand: () => number, square?: number[]) {
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const inside =
        square && x >= square[0] && x < square[0] + square[2] && y >= square[1] && y < square[1] + square[2];
      const base = inside ? 220 : 40;
      for (let c = 0; c < 3; c++) pixels[offset + (y * size + x) * 3 + c] = base + (rand() - 0.5) * 40;
    }
  }
}

function trainingBatch(rand: () => number, n: number) {
  const patches = new Float32Array(n * PATCH * PATCH * 3);
  const masks = new Float32Array(n * MASK * MASK).fill(-1);
  const labels = new Float32Array(n);
  for (let k = 0; k < n; k++) {
    const positive = k % 2 === 0;
    const kind = Math.floor(rand() * 3);
    let side = CANONICAL * 2 ** ((rand() - 0.5) / 2);
    let shift = [(rand() - 0.5) * 8, (rand() - 0.5) * 8];
    if (!positive && kind === 1) shift = shift.map((s) => (s < 0 ? -1 : 1) * (16 + rand() * 24));
    if (!positive && kind === 2)
      side = rand() < 0.5 ? CANONICAL / 2 ** (1 + rand()) : Math.min(PATCH, CANONICAL * 1.9);
    const square = [PATCH / 2 + shift[0] - side / 2, PATCH / 2 + shift[1] - side / 2, side].map(Math.round);
    paint(patches, k * PATCH * PATCH * 3, PATCH, rand, !positive && kind === 0 ? undefined : square);
    labels[k] = positive ? 1 : -1;
    if (!positive) continue;
    for (let v = 0; v < MASK; v++) {
      for (let u = 0; u < MASK; u++) {
        const [cx, cy] = [((u + 0.5) * PATCH) / MASK, ((v + 0.5) * PATCH) / MASK];
        const inside =
          cx >= square[0] && cx < square[0] + square[2] && cy >= square[1] && cy < square[1] + square[2];
        if (inside) masks[k * MASK * MASK + v * MASK + u] = 1;
      }
    }
  }
  return { patches, masks, labels };
}

function trainTinyModel(steps: number): DeepMask {
  const model = createDeepMask(defaultConfig('tiny', { dropoutRate: 0 }), { seed: 7 });
  const optimizer = tf.train.adam(3e-3);
  const rand = random(11);
  for (let step = 0; step < steps; step++) {
    const { patches, masks, labels } = trainingBatch(rand, 32);
    tf.tidy(() => {
      const x = tf.tensor4d(patches, [32, PATCH, PATCH, 3]);
      const maskTargets = tf.tensor3d(masks, [32, MASK, MASK]);
      const y = tf.tensor1d(labels);
      optimizer.minimize(
        () => {
          const { maskLogits, scoreLogits } = model.predictPatches(x, { training: true });
          return deepMaskLoss({ maskLogits, scoreLogits, maskTargets, labels: y }, { lambda: 1 / 32 }).total;
        },
        false,
        model.trainableVariables,
      );
    });
  }
  optimizer.dispose();
  return model;
}

describe('end to end: a tiny model trained on bright squares', () => {
  let model: DeepMask;
  beforeAll(async () => {
    await useBackend('cpu');
    model = trainTinyModel(150);
  });
  afterAll(() => model?.dispose());

  it('ranks a proposal that overlaps the square with IoU > .5 first', async () => {
    const rand = random(5);
    const [height, width] = [160, 200];
    for (const square of [
      [40, 50, 48],
      [120, 20, 30],
    ]) {
      const pixels = new Float32Array(height * width * 3);
      for (let y = 0; y < height; y++) {
        for (let x = 0; x < width; x++) {
          const inside =
            x >= square[0] && x < square[0] + square[2] && y >= square[1] && y < square[1] + square[2];
          for (let c = 0; c < 3; c++)
            pixels[(y * width + x) * 3 + c] = (inside ? 220 : 40) + (rand() - 0.5) * 40;
        }
      }
      const truth = new Uint8Array(height * width);
      for (let y = square[1]; y < square[1] + square[2]; y++)
        truth.fill(1, y * width + square[0], y * width + square[0] + square[2]);
      const image = tf.tensor3d(pixels, [height, width, 3]);
      const { proposals } = await proposeMasks(model, image, {
        scales: { minLog2: -1, maxLog2: 1, stepLog2: 0.5 },
        topN: 10,
      });
      image.dispose();
      const iou = maskIou([proposals[0].rle], [rleFromRowMajor(truth, height, width)], [false]);
      expect(iou[0][0], `square ${square}: top proposal bbox ${proposals[0].bbox}`).toBeGreaterThan(0.5);
    }
  });
});
