import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { trainingMetrics } from '../src/index.js';
import { BACKENDS, useBackend } from './backends.js';

describe.each(BACKENDS)('trainingMetrics on %s', (backend) => {
  beforeAll(() => useBackend(backend));

  it('averages mask IoU over positives and counts score signs', () => {
    const inputs = {
      // k0: predicted {0,1}, target {0,2} -> IoU 1/3; k1: both empty -> 1; k2 (negative): ignored.
      maskLogits: tf.tensor3d([3, 2, -1, -4, -1, -1, -1, -1, 5, 5, 5, 5], [3, 2, 2]),
      maskTargets: tf.tensor3d([1, -1, 1, -1, -1, -1, -1, -1, -1, -1, -1, -1], [3, 2, 2]),
      scoreLogits: tf.tensor1d([0.3, -2, 1]),
      labels: tf.tensor1d([1, 1, -1]),
    };
    const metrics = trainingMetrics(inputs);
    expect(metrics.maskIoU).toBeCloseTo((1 / 3 + 1) / 2, 6);
    expect(metrics.scoreAccuracy).toBeCloseTo(1 / 3, 6);
    const before = tf.memory().numTensors;
    trainingMetrics(inputs);
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose(inputs as never);
  });

  it('returns NaN for a metric whose inputs are absent', () => {
    const labels = tf.tensor1d([1, -1]);
    const metrics = trainingMetrics({ labels, scoreLogits: tf.tensor1d([1, 1]) });
    expect(metrics.maskIoU).toBeNaN();
    expect(metrics.scoreAccuracy).toBe(0.5);
    tf.dispose(labels);
  });
});
