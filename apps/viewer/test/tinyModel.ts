import { deepMaskLoss } from '@deepmask/loss';
import { createDeepMask, type DeepMask, defaultConfig } from '@deepmask/model';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-core/dist/register_all_gradients';
import { drawSquares, random } from './synthetic.js';

const INPUT_SIZE_PX = 64;
const MASK_SIZE_PX = 16;
/** The paper's 128 px object in a 224 px patch, scaled to this patch. */
const CANONICAL_SIDE_PX = Math.round((128 * INPUT_SIZE_PX) / 224);

/**
 * A tiny DeepMask trained for a few dozen steps on patches with a centred square (positive, its mask
 * the square) or without one (negative): enough for proposals that follow the squares.
 */
export async function trainTinyModel(steps: number, batchSize = 16): Promise<DeepMask> {
  const model = createDeepMask(
    defaultConfig('tiny', { inputSizePx: INPUT_SIZE_PX, maskSizePx: MASK_SIZE_PX }),
    {
      seed: 7,
    },
  );
  // The trunk stays at its random initialisation: tfjs-backend-cpu's Conv2DBackpropFilter is far too slow
  // for the test's budget, and random features separate flat squares from background well enough.
  const heads = model.trainableVariables.filter((variable) => !variable.name.includes('/trunk/'));
  const optimizer = tf.train.adam(0.01);
  const next = random(11);
  for (let step = 0; step < steps; step++) {
    const batch = squaresBatch(batchSize, next);
    optimizer.minimize(
      () => {
        const { maskLogits, scoreLogits } = model.predictPatches(batch.patches, { training: true });
        return deepMaskLoss({ maskLogits, scoreLogits, maskTargets: batch.maskTargets, labels: batch.labels })
          .total;
      },
      false,
      heads,
    );
    tf.dispose([batch.patches, batch.maskTargets, batch.labels]);
  }
  optimizer.dispose();
  return model;
}

function squaresBatch(size: number, next: () => number) {
  const patches = new Float32Array(size * INPUT_SIZE_PX * INPUT_SIZE_PX * 3);
  const maskTargets = new Float32Array(size * MASK_SIZE_PX * MASK_SIZE_PX).fill(-1);
  const labels = new Float32Array(size);
  for (let k = 0; k < size; k++) {
    const positive = k % 2 === 0;
    const color: [number, number, number] = [
      Math.floor(next() * 256),
      Math.floor(next() * 256),
      Math.floor(next() * 256),
    ];
    const side = positive
      ? Math.round(CANONICAL_SIDE_PX * 2 ** ((next() - 0.5) / 2))
      : Math.round(6 + next() * 10);
    const centre = INPUT_SIZE_PX / 2;
    const jitter = positive ? 4 : 24;
    const x = Math.round(centre - side / 2 + (next() - 0.5) * 2 * jitter);
    const y = Math.round(centre - side / 2 + (next() - 0.5) * 2 * jitter);
    const image = drawSquares(
      INPUT_SIZE_PX,
      INPUT_SIZE_PX,
      [{ x, y, side, color }],
      Math.floor(next() * 1e9),
    );
    patches.set(image.data, k * image.data.length);
    labels[k] = positive ? 1 : -1;
    if (!positive) continue;
    const cellPx = INPUT_SIZE_PX / MASK_SIZE_PX;
    for (let row = 0; row < MASK_SIZE_PX; row++) {
      for (let col = 0; col < MASK_SIZE_PX; col++) {
        const px = (col + 0.5) * cellPx;
        const py = (row + 0.5) * cellPx;
        if (px >= x && px < x + side && py >= y && py < y + side) {
          maskTargets[(k * MASK_SIZE_PX + row) * MASK_SIZE_PX + col] = 1;
        }
      }
    }
  }
  return {
    patches: tf.tensor4d(patches, [size, INPUT_SIZE_PX, INPUT_SIZE_PX, 3]),
    maskTargets: tf.tensor3d(maskTargets, [size, MASK_SIZE_PX, MASK_SIZE_PX]),
    labels: tf.tensor1d(labels),
  };
}
