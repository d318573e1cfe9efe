import * as tf from '@tensorflow/tfjs-core';
import { expect, it } from 'vitest';
import { createDeepMask, type DeepMask, defaultConfig } from '../src/index.js';
import { describeEachBackend } from './backends.js';

/** The paper's joint loss on one batch (mask term for positives only, per pixel; lambda 1/32). */
function jointLoss(
  model: DeepMask,
  patches: tf.Tensor4D,
  masks: tf.Tensor3D,
  labels: tf.Tensor1D,
): tf.Scalar {
  const { maskLogits, scoreLogits } = model.predictPatches(patches, { training: true });
  const positives = tf.div(tf.add(labels, 1), 2); // [N]
  const perPixel = tf.mean(tf.softplus(tf.neg(tf.mul(masks, maskLogits))), [1, 2]); // [N]
  const maskTerm = tf.div(tf.sum(tf.mul(perPixel, positives)), tf.maximum(tf.sum(positives), 1));
  const scoreTerm = tf.mean(tf.softplus(tf.neg(tf.mul(labels, scoreLogits))));
  return tf.add(maskTerm, tf.mul(scoreTerm, 1 / 32)) as tf.Scalar;
}

/** Bright squares centred in positives (their mask), off-centre in negatives; 64 px patches, 16 px masks. */
function syntheticBatch(count: number): { patches: tf.Tensor4D; masks: tf.Tensor3D; labels: tf.Tensor1D } {
  const size = 64;
  const o = 16;
  const pixels = new Float32Array(count * size * size * 3);
  const masks = new Float32Array(count * o * o).fill(-1);
  const labels = new Float32Array(count);
  for (let n = 0; n < count; n++) {
    const positive = n % 2 === 0;
    labels[n] = positive ? 1 : -1;
    const side = 20 + 4 * (n % 4);
    const x0 = positive ? (size - side) / 2 : n % 4 === 1 ? 0 : size - side;
    const y0 = positive ? (size - side) / 2 : 4;
    for (let y = 0; y < size; y++) {
      for (let x = 0; x < size; x++) {
        const inside = x >= x0 && x < x0 + side && y >= y0 && y < y0 + side;
        for (let c = 0; c < 3; c++)
          pixels[((n * size + y) * size + x) * 3 + c] = inside ? 230 - 40 * c : 40 + ((x * 7 + y * 3) % 50);
        if (positive && inside)
          masks[(n * o + Math.floor((y * o) / size)) * o + Math.floor((x * o) / size)] = 1;
      }
    }
  }
  return {
    patches: tf.tensor4d(pixels, [count, size, size, 3]),
    masks: tf.tensor3d(masks, [count, o, o]),
    labels: tf.tensor1d(labels),
  };
}

// wasm only: the cpu backend's Conv2DBackpropFilter is plain loops (about 4 M multiply-adds/s here), so
// 30 steps would take minutes there; cpu gradients are exercised in forms.test.ts.
describeEachBackend('training', (backend) => {
  it.skipIf(backend === 'cpu')(
    'SGD with momentum on a tiny model drives the joint loss down, without leaking tensors',
    () => {
      const model = createDeepMask(
        defaultConfig('tiny', { trunkWidths: [16, 24, 32, 32], dropoutRate: 0.1 }),
        { seed: 2 },
      );
      const { patches, masks, labels } = syntheticBatch(8);
      const optimizer = tf.train.momentum(0.02, 0.9);
      const losses: number[] = [];
      let tensorsAfterFirstStep = 0;
      for (let step = 0; step < 30; step++) {
        const loss = optimizer.minimize(
          () => jointLoss(model, patches, masks, labels),
          true,
          model.trainableVariables,
        );
        losses.push(loss?.dataSync()[0] ?? Number.NaN);
        loss?.dispose();
        if (step === 0) tensorsAfterFirstStep = tf.memory().numTensors;
      }
      expect(tf.memory().numTensors).toBe(tensorsAfterFirstStep);
      const first = losses.slice(0, 3).reduce((a, b) => a + b) / 3;
      const last = losses.slice(-3).reduce((a, b) => a + b) / 3;
      expect(last).toBeLessThan(0.6 * first);
      optimizer.dispose();
      tf.dispose([patches, masks, labels]);
      model.dispose();
    },
  );
});
