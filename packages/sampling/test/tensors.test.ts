import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { batchToTensors, type PatchBatch } from '../src/index.js';

const batch: PatchBatch = {
  patches: Float32Array.from({ length: 2 * 4 * 4 * 3 }, (_, i) => i % 256),
  maskTargets: Float32Array.from({ length: 2 * 3 * 3 }, (_, i) => (i % 3 === 0 ? 1 : -1)),
  labels: Float32Array.from([1, -1]),
  heads: 'joint',
  samples: [],
};

describe.each(['cpu', 'wasm'])('batchToTensors on %s', (backend) => {
  it('shapes the arrays as [N, iSz, iSz, 3], [N, L, L] and [N], leaking nothing', async () => {
    await tf.setBackend(backend);
    await tf.ready();
    const before = tf.memory().numTensors;
    for (let i = 0; i < 3; i++) {
      const t = batchToTensors(batch);
      expect(t.patches.shape).toEqual([2, 4, 4, 3]);
      expect(t.maskTargets.shape).toEqual([2, 3, 3]);
      expect(t.labels.shape).toEqual([2]);
      expect(Array.from(await t.patches.data())).toEqual(Array.from(batch.patches));
      expect(Array.from(await t.maskTargets.data())).toEqual(Array.from(batch.maskTargets));
      tf.dispose([t.patches, t.maskTargets, t.labels]);
    }
    expect(tf.memory().numTensors).toBe(before);
  });

  it('names inconsistent lengths', () => {
    expect(() => batchToTensors({ ...batch, maskTargets: new Float32Array(7) })).toThrow(/batchToTensors/);
  });
});
