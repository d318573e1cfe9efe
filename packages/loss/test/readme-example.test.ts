import * as tf from '@tensorflow/tfjs-core';
import { expect, it } from 'vitest';
import { deepMaskLoss, trainingMetrics } from '../src/index.js';
import { useBackend } from './backends.js';

it('runs the README example', async () => {
  await useBackend('cpu');
  const maskLogits = tf.randomNormal([2, 56, 56]) as tf.Tensor3D;
  const scoreLogits = tf.tensor1d([0.5, -1]);
  const maskTargets = tf.where(tf.greater(tf.randomUniform([2, 112, 112]), 0.5), 1, -1) as tf.Tensor3D;
  const labels = tf.tensor1d([1, -1]);
  const { total, mask, score } = deepMaskLoss({ maskLogits, scoreLogits, maskTargets, labels });
  expect(total.dataSync()[0]).toBeCloseTo(mask.dataSync()[0] + score.dataSync()[0] / 32, 5);
  const metrics = trainingMetrics({ maskLogits, scoreLogits, maskTargets, labels });
  expect(metrics.scoreAccuracy).toBe(1);
  expect(metrics.maskIoU).toBeGreaterThan(0);
});
