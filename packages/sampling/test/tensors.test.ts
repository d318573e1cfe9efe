import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import { CocoDataset } from '@deepmask/coco';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { batchToTensors, createSampler, type PatchBatch } from '../src/index.js';
import { coordinateImage, memoryImages, syntheticScene } from './synthetic.js';

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

it('gives the same tensors for the same seed on cpu and on wasm', async () => {
  const scene = syntheticScene();
  const dataset = CocoDataset.fromJson(scene.json, 'synthetic.json');
  const pictures = Object.fromEntries(
    scene.images.map((i) => [i.fileName, coordinateImage(i.width, i.height)]),
  );
  const values = async (backend: string) => {
    await tf.setBackend(backend);
    await tf.ready();
    const files = memoryImages(pictures);
    const sampler = createSampler({
      dataset,
      images: files.source,
      decoder: files.decoder,
      config: { inputSizePx: 48, maskSizePx: 12, batchSize: 8 },
      seed: 5,
    });
    const t = batchToTensors(await sampler.batch(3));
    const data = await Promise.all([t.patches.data(), t.maskTargets.data(), t.labels.data()]);
    tf.dispose([t.patches, t.maskTargets, t.labels]);
    return data.map((array) => Array.from(array));
  };
  const onCpu = await values('cpu');
  const onWasm = await values('wasm');
  expect(onWasm).toEqual(onCpu);
  // Not a degenerate batch: both labels, and the mean-colour estimate and pixels are real.
  expect(new Set(onCpu[2])).toEqual(new Set([1, -1]));
  expect(new Set(onCpu[0]).size).toBeGreaterThan(100);
});
