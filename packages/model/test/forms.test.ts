import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { fineStridePool } from '../src/fine-stride.js';
import { buildHeads } from '../src/heads.js';
import { createDeepMask, type DeepMaskConfig, defaultConfig, type TrunkName } from '../src/index.js';
import { WeightStore } from '../src/weights.js';
import { describeEachBackend, maxAbsDiff, randomPixels } from './backends.js';

/** Small heads so that the big trunks' shape tests stay fast; the trunks themselves are full. */
const SMALL_HEADS = { maskSizePx: 8, reducedChannels: 16, embeddingSize: 32, scoreHiddenSizes: [16, 16] };
const SMALL: Record<TrunkName, DeepMaskConfig> = {
  'vgg-a': defaultConfig('vgg-a', { inputSizePx: 32, ...SMALL_HEADS }),
  resnet50: defaultConfig('resnet50', { inputSizePx: 32, ...SMALL_HEADS, scoreHiddenSizes: [16] }),
  'mobilenet-v1': defaultConfig('mobilenet-v1', { inputSizePx: 32, ...SMALL_HEADS }),
  tiny: defaultConfig('tiny'),
};

describeEachBackend('both forms', () => {
  for (const [trunk, config] of Object.entries(SMALL)) {
    it(`${trunk}: patch form [N, iSz, iSz, 3] -> [N, oSz, oSz] and [N]; dense form one cell per 16 px`, () => {
      const model = createDeepMask(config);
      const { inputSizePx: size, maskSizePx: o, embeddingSize: e } = config;
      const f = size / 16;
      const patches = randomPixels([2, size, size, 3]);
      const patch = model.predictPatches(patches);
      expect(patch.maskLogits.shape).toEqual([2, o, o]);
      expect(patch.scoreLogits.shape).toEqual([2]);
      // Pixels short of a multiple of 16 add no cell: floor(H / 16) - F + 1 rows (2 and 3 here).
      const images = randomPixels([1, size + 20, size + 36, 3]);
      const dense = model.predictDense(images);
      const [rows, cols] = [Math.floor((size + 20) / 16) - f + 1, Math.floor((size + 36) / 16) - f + 1];
      expect(dense.maskEmbedding.shape).toEqual([1, rows, cols, e]);
      expect(dense.scoreLogits.shape).toEqual([1, rows, cols]);
      const masks = model.decodeMasks(tf.reshape(dense.maskEmbedding, [-1, e]) as tf.Tensor2D);
      expect(masks.shape).toEqual([rows * cols, o, o]);
      tf.dispose([patches, patch, images, dense, masks]);
      model.dispose();
    });
  }

  it('names the argument and the expected shape when inputs are wrong', () => {
    const model = createDeepMask(defaultConfig('tiny'));
    const wrong = tf.zeros([1, 32, 32, 3]) as tf.Tensor4D;
    expect(() => model.predictPatches(wrong)).toThrow(
      'predictPatches: patches must be [N, 64, 64, 3]; got [1,32,32,3]',
    );
    expect(() => model.predictDense(wrong)).toThrow(
      /predictDense: images must be \[B, H, W, 3\] with H, W >= 64/,
    );
    expect(() => model.decodeMasks(tf.zeros([2, 5]) as tf.Tensor2D)).toThrow(
      'decodeMasks: embedding must be [K, 64]',
    );
    wrong.dispose();
    model.dispose();
  });

  for (const head of ['paper', 'shared'] as const) {
    it(`${head} heads: a single-patch image gives the patch form's outputs`, () => {
      const model = createDeepMask(
        defaultConfig('tiny', { head, scoreHiddenSizes: head === 'paper' ? [32, 48] : [48] }),
        { seed: 5 },
      );
      const image = randomPixels([1, 64, 64, 3]);
      const patch = model.predictPatches(image);
      const dense = model.predictDense(image);
      expect(dense.scoreLogits.shape).toEqual([1, 1, 1]);
      const masks = model.decodeMasks(tf.reshape(dense.maskEmbedding, [1, -1]) as tf.Tensor2D);
      expect(maxAbsDiff(masks, patch.maskLogits)).toBeLessThan(1e-4);
      expect(maxAbsDiff(tf.reshape(dense.scoreLogits, [1]), patch.scoreLogits)).toBeLessThan(1e-4);
      tf.dispose([image, patch, dense, masks]);
      model.dispose();
    });

    it(`${head} heads: every dense cell equals the patch form on its F x F window of the same features`, () => {
      const config = defaultConfig('tiny', {
        head,
        inputSizePx: 64,
        scoreHiddenSizes: head === 'paper' ? [24, 40] : [40],
      });
      const store = new WeightStore(11);
      const heads = buildHeads(store, config, [4, 4, 32]);
      // Features of a 9 x 7 cell image: windows (i, j) with i in 0..5, j in 0..3; odd sizes test both offsets.
      const features = tf.relu(tf.randomNormal([1, 9, 7, 32], 0, 1, 'float32', 3)) as tf.Tensor4D;
      const dense = heads.dense(features);
      expect(dense.scoreLogits.shape).toEqual([1, 6, 4]);
      const windows: tf.Tensor4D[] = [];
      for (let i = 0; i < 6; i++)
        for (let j = 0; j < 4; j++) windows.push(tf.slice(features, [0, i, j, 0], [1, 4, 4, 32]));
      const batch = tf.concat(windows) as tf.Tensor4D;
      const patch = heads.patch(batch, false);
      const embedding = tf.reshape(dense.maskEmbedding, [24, -1]) as tf.Tensor2D;
      const masks = heads.decode(embedding);
      expect(maxAbsDiff(masks, patch.maskLogits)).toBeLessThan(1e-4);
      expect(maxAbsDiff(tf.reshape(dense.scoreLogits, [24]), patch.scoreLogits)).toBeLessThan(1e-4);
      tf.dispose([features, dense, windows, batch, patch, embedding, masks]);
      store.dispose();
    });
  }

  it('fine-stride pooling (4 offsets, interleaved) equals a stride-1 max-pool and a dilated conv', () => {
    const features = tf.randomNormal([2, 10, 9, 3], 0, 1, 'float32', 9) as tf.Tensor4D;
    const kernel = tf.randomNormal([3, 3, 3, 1], 0, 1, 'float32', 10) as tf.Tensor4D;
    // A 6 x 6 window pools to 3 x 3; cells: (10 - 6 + 1) x (9 - 6 + 1).
    const fine = fineStridePool(features, 5, 4, (pooled) =>
      tf.squeeze(tf.conv2d(pooled, kernel, 1, 'valid'), [3]),
    );
    const direct = tf.squeeze(
      tf.conv2d(tf.maxPool(features, 2, 1, 'valid'), kernel, 1, 'valid', 'NHWC', 2),
      [3],
    );
    expect(direct.shape).toEqual([2, 5, 4]);
    expect(maxAbsDiff(fine, direct)).toBeLessThan(1e-5);
    tf.dispose([features, kernel, fine, direct]);
  });
});

describeEachBackend('no tensor leak', () => {
  let model: ReturnType<typeof createDeepMask>;
  beforeAll(() => {
    // Narrow: the cpu backend's Conv2DBackpropFilter is plain loops.
    model = createDeepMask(defaultConfig('tiny', { trunkWidths: [4, 8, 8, 8], reducedChannels: 8 }));
  });
  afterAll(() => model.dispose());

  it('over repeated patch, dense, decode calls and gradients', () => {
    const patches = randomPixels([2, 64, 64, 3]);
    const image = randomPixels([1, 96, 80, 3]);
    const round = () => {
      tf.dispose(model.predictPatches(patches, { training: true }));
      const dense = model.predictDense(image);
      const embedding = tf.reshape(dense.maskEmbedding, [-1, 64]) as tf.Tensor2D;
      tf.dispose([dense, embedding, model.decodeMasks(embedding)]);
      const { value, grads } = tf.variableGrads(() => {
        const { maskLogits, scoreLogits } = model.predictPatches(patches, { training: true });
        return tf.add(tf.mean(maskLogits), tf.mean(scoreLogits)) as tf.Scalar;
      }, model.trainableVariables);
      expect(Object.keys(grads).length).toBe(model.trainableVariables.length);
      tf.dispose([value, grads]);
    };
    round();
    const before = tf.memory().numTensors;
    for (let i = 0; i < 3; i++) round();
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([patches, image]);
  });
});
