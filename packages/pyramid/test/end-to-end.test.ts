import { maskIou, rleFromRowMajor } from '@deepmask/coco';
import { deepMaskLoss } from '@deepmask/loss';
import { createDeepMask, type DeepMask, defaultConfig } from '@deepmask/model';
import { registerWasmTrainingKernels } from '@deepmask/wasm-training';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { proposeMasks } from '../src/index.js';
import { useBackend } from './backends.js';

// The tiny model sees 32-px patches; a positive holds a square of about 18 px (the paper's 128 of 224)
// near its centre (within the 8 px that the 16-px stride can miss it by), a negative holds no square,
// one far off centre, or one of the wrong size.
const PATCH = 32;
const MASK = 8;
const CANONICAL = 18;
const CONFIG = defaultConfig('tiny', { inputSizePx: PATCH, maskSizePx: MASK, dropoutRate: 0 });
// The tiny trunk sees 15 px beyond its 32-px patch, which training fills with the padding (the mean
// colour): a background of that colour keeps the dense form's view of a patch like the training one's.
const BACKGROUND = CONFIG.pixelMean;

type Square = [x: number, y: number, side: number];

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

const inSquare = (x: number, y: number, s?: Square) =>
  s !== undefined && x >= s[0] && x < s[0] + s[2] && y >= s[1] && y < s[1] + s[2];

/** Noisy background with one bright square (which may cross the border), as RGB at `offset`. */
function paint(
  pixels: Float32Array,
  offset: number,
  height: number,
  width: number,
  rand: () => number,
  square?: Square,
) {
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const inside = inSquare(x, y, square);
      for (let c = 0; c < 3; c++) {
        pixels[offset + (y * width + x) * 3 + c] = (inside ? 235 : BACKGROUND[c]) + (rand() - 0.5) * 40;
      }
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
    let shift = [(rand() - 0.5) * 12, (rand() - 0.5) * 12];
    if (!positive && kind === 1) shift = shift.map((s) => (s < 0 ? -1 : 1) * (10 + rand() * 12));
    if (!positive && kind === 2)
      side = rand() < 0.5 ? CANONICAL / 2 ** (1 + rand()) : CANONICAL * 2 ** (1 + rand());
    const square = [PATCH / 2 + shift[0] - side / 2, PATCH / 2 + shift[1] - side / 2, side].map(
      Math.round,
    ) as Square;
    paint(patches, k * PATCH * PATCH * 3, PATCH, PATCH, rand, !positive && kind === 0 ? undefined : square);
    labels[k] = positive ? 1 : -1;
    if (!positive) continue;
    for (let v = 0; v < MASK; v++) {
      for (let u = 0; u < MASK; u++) {
        if (inSquare(((u + 0.5) * PATCH) / MASK, ((v + 0.5) * PATCH) / MASK, square))
          masks[k * MASK * MASK + v * MASK + u] = 1;
      }
    }
  }
  return { patches, masks, labels };
}

function trainTinyModel(steps: number): DeepMask {
  const model = createDeepMask(CONFIG, { seed: 7 });
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
          return deepMaskLoss({ maskLogits, scoreLogits, maskTargets, labels: y }).total;
        },
        false,
        model.trainableVariables,
      );
    });
  }
  optimizer.dispose();
  return model;
}

describe('end to end on wasm: a tiny model trained on bright squares', () => {
  let model: DeepMask;
  beforeAll(async () => {
    registerWasmTrainingKernels();
    await useBackend('wasm');
    model = trainTinyModel(300);
  });
  afterAll(() => model?.dispose());

  // What a proposal method is measured by: recall among its top proposals (AR@10 here), not the first
  // one's rank. A square between two of the pyramid's scales (2^0.5 apart) is also seen at the next
  // scale, partly, by cells that training marked neither positive (2^±0.25) nor negative (2^1 and more off):
  // which of those ranks first moves with the last bits of the training's sums. Over seeds 7-12 and two
  // orders of summation, the best of the top 10 covered the squares with IoU 0.83-0.90 and 0.76-0.82, the
  // first proposal with 0.31-0.90 and 0.62-0.80.
  it.each([[[40, 50, 48] as Square], [[120, 20, 30] as Square]])(
    'finds the square %j among its top 10 proposals (IoU > .7), the first of them on it (IoU > .2)',
    async (square) => {
      const [height, width] = [160, 200];
      const pixels = new Float32Array(height * width * 3);
      paint(pixels, 0, height, width, random(5), square);
      const truth = new Uint8Array(height * width);
      for (let y = square[1]; y < square[1] + square[2]; y++) {
        truth.fill(1, y * width + square[0], y * width + square[0] + square[2]);
      }
      const image = tf.tensor3d(pixels, [height, width, 3]);
      const { proposals } = await proposeMasks(model, image, {
        scales: { minLog2: -2, maxLog2: 0, stepLog2: 0.5 },
        topN: 10,
      });
      image.dispose();
      expect(proposals).toHaveLength(10);
      const rle = rleFromRowMajor(truth, height, width);
      const ious = proposals.map((proposal) => maskIou([proposal.rle], [rle], [false])[0][0]);
      const described = proposals.map(
        (p, i) => `bbox ${p.bbox} at scale ${p.scale.toFixed(2)}: IoU ${ious[i].toFixed(2)}`,
      );
      expect(Math.max(...ious), described.join('; ')).toBeGreaterThan(0.7);
      expect(ious[0], described[0]).toBeGreaterThan(0.2);
    },
  );
});
