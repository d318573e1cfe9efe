import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { deepMaskLoss } from '../src/index.js';
import { BACKENDS, useBackend } from './backends.js';
import { type Batch64, loss64 } from './reference.js';

// Hand-computed (python, float64): mask term of the positive = mean(softplus([0, 1, -2, 1])).
const HAND = {
  maskLogits: [0, 1, 2, -1, 5, -5, 5, -5],
  maskTargets: [1, -1, 1, 1, 1, 1, -1, -1],
  scoreLogits: [0.5, 2],
  labels: [1, -1],
  mask: 0.43082482082992046,
  score: 1.3005024976115398,
  total: 0.47146552388028107,
};

function tensors(b: Batch64) {
  const n = b.labels.length;
  return {
    maskLogits: tf.tensor3d(b.maskLogits, [n, b.maskSizePx, b.maskSizePx]),
    scoreLogits: tf.tensor1d(b.scoreLogits),
    maskTargets: tf.tensor3d(b.maskTargets, [n, b.labelSizePx, b.labelSizePx]),
    labels: tf.tensor1d(b.labels),
  };
}

function randomBatch(
  n: number,
  maskSizePx: number,
  labelSizePx: number,
  logitScale: number,
  seed: number,
): Batch64 {
  let state = seed;
  const next = () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
  const sign = () => (next() < 0.5 ? -1 : 1);
  return {
    maskLogits: Array.from({ length: n * maskSizePx * maskSizePx }, () => (2 * next() - 1) * logitScale),
    maskSizePx,
    scoreLogits: Array.from({ length: n }, () => (2 * next() - 1) * logitScale),
    maskTargets: Array.from({ length: n * labelSizePx * labelSizePx }, sign),
    labelSizePx,
    labels: Array.from({ length: n }, (_, k) => (k % 3 === 2 ? -1 : 1)),
  };
}

describe.each(BACKENDS)('deepMaskLoss on %s', (backend) => {
  beforeAll(() => useBackend(backend));

  it('equals the hand-computed joint loss', () => {
    const inputs = tensors({ ...HAND, maskSizePx: 2, labelSizePx: 2 });
    const loss = deepMaskLoss(inputs);
    expect(loss.mask.dataSync()[0]).toBeCloseTo(HAND.mask, 6);
    expect(loss.score.dataSync()[0]).toBeCloseTo(HAND.score, 6);
    expect(loss.total.dataSync()[0]).toBeCloseTo(HAND.total, 6);
    tf.dispose([inputs, loss] as never);
  });

  it('trains one head per batch: mask term only, or lambda * score only', () => {
    const inputs = tensors({ ...HAND, maskSizePx: 2, labelSizePx: 2 });
    const maskBatch = deepMaskLoss(
      { maskLogits: inputs.maskLogits, maskTargets: inputs.maskTargets, labels: inputs.labels },
      { heads: 'mask' },
    );
    expect(maskBatch.total.dataSync()[0]).toBeCloseTo(HAND.mask, 6);
    expect(maskBatch.score.dataSync()[0]).toBe(0);
    const scoreBatch = deepMaskLoss(
      { scoreLogits: inputs.scoreLogits, labels: inputs.labels },
      { heads: 'score', lambda: 0.5 },
    );
    expect(scoreBatch.total.dataSync()[0]).toBeCloseTo(HAND.score * 0.5, 6);
    expect(scoreBatch.mask.dataSync()[0]).toBe(0);
    tf.dispose([inputs, maskBatch, scoreBatch] as never);
  });

  it('resizes mask logits to the label size (half-pixel centres) and matches the float64 reference', () => {
    const batch = randomBatch(4, 3, 7, 4, 7);
    const inputs = tensors(batch);
    const loss = deepMaskLoss(inputs, { lambda: 0.25 });
    const expected = loss64(batch, 0.25);
    expect(loss.mask.dataSync()[0]).toBeCloseTo(expected.mask, 5);
    expect(loss.score.dataSync()[0]).toBeCloseTo(expected.score, 5);
    expect(loss.total.dataSync()[0]).toBeCloseTo(expected.total, 5);
    tf.dispose([inputs, loss] as never);
  });

  it('has gradients equal to central finite differences of the float64 reference', () => {
    const batch = randomBatch(3, 2, 4, 3, 11);
    const inputs = tensors(batch);
    const gradient = tf.grads(
      (maskLogits: tf.Tensor, scoreLogits: tf.Tensor) =>
        deepMaskLoss({
          ...inputs,
          maskLogits: maskLogits as tf.Tensor3D,
          scoreLogits: scoreLogits as tf.Tensor1D,
        }).total,
    );
    const [dMask, dScore] = gradient([inputs.maskLogits, inputs.scoreLogits]);
    const h = 1e-6;
    const numeric = (field: 'maskLogits' | 'scoreLogits', i: number) => {
      const plus = structuredClone(batch);
      const minus = structuredClone(batch);
      plus[field][i] += h;
      minus[field][i] -= h;
      return (loss64(plus, 1 / 32).total - loss64(minus, 1 / 32).total) / (2 * h);
    };
    const dMaskValues = dMask.dataSync();
    for (let i = 0; i < batch.maskLogits.length; i++)
      expect(dMaskValues[i]).toBeCloseTo(numeric('maskLogits', i), 6);
    const dScoreValues = dScore.dataSync();
    for (let i = 0; i < batch.scoreLogits.length; i++)
      expect(dScoreValues[i]).toBeCloseTo(numeric('scoreLogits', i), 6);
    // Negatives get no mask gradient at all.
    expect(Array.from(dMaskValues.slice(2 * 4, 3 * 4))).toEqual([0, 0, 0, 0]);
    tf.dispose([inputs, dMask, dScore] as never);
  });

  it('stays exact and finite for logits of +-1e3 and +-1e4', () => {
    const batch: Batch64 = {
      maskLogits: [1e3, -1e3, 1e4, -1e4],
      maskSizePx: 2,
      scoreLogits: [-1e3],
      maskTargets: [-1, 1, 1, -1],
      labelSizePx: 2,
      labels: [1],
    };
    const inputs = tensors(batch);
    const loss = deepMaskLoss(inputs);
    // softplus(-m f) = [1e3, 1e3, 0, 0] -> mask 500; softplus(1e3) = 1e3 -> score 1e3.
    expect(loss.mask.dataSync()[0]).toBeCloseTo(500, 3);
    expect(loss.score.dataSync()[0]).toBeCloseTo(1000, 3);
    expect(loss.total.dataSync()[0]).toBeCloseTo(500 + 1000 / 32, 3);
    const [dMask, dScore] = tf.grads(
      (m: tf.Tensor, s: tf.Tensor) =>
        deepMaskLoss({ ...inputs, maskLogits: m as tf.Tensor3D, scoreLogits: s as tf.Tensor1D }).total,
    )([inputs.maskLogits, inputs.scoreLogits]);
    // d/df softplus(-m f) / 4 = -m sigmoid(-m f) / 4.
    expect(Array.from(dMask.dataSync())).toEqual([0.25, -0.25, 0, 0].map((v) => expect.closeTo(v, 6)));
    expect(dScore.dataSync()[0]).toBeCloseTo(-1 / 32, 6);
    tf.dispose([inputs, loss, dMask, dScore] as never);
  });

  it('leaks no tensors over repeated calls, gradients included', () => {
    const inputs = tensors(randomBatch(2, 2, 4, 1, 3));
    const step = () => {
      const loss = deepMaskLoss(inputs);
      const grads = tf.grads(
        (m: tf.Tensor) => deepMaskLoss({ ...inputs, maskLogits: m as tf.Tensor3D }).total,
      )([inputs.maskLogits]);
      tf.dispose([loss, grads] as never);
    };
    step();
    const before = tf.memory().numTensors;
    for (let i = 0; i < 5; i++) step();
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose(inputs as never);
  });

  it('names the argument and the shapes when they do not fit', () => {
    const inputs = tensors({ ...HAND, maskSizePx: 2, labelSizePx: 2 });
    const small = tf.zeros([2, 1, 1]) as tf.Tensor3D;
    expect(() => deepMaskLoss({ ...inputs, maskTargets: small })).toThrow(
      /maskTargets \[N, L, L\].*L >= oSz.*\[2, 1, 1\]/,
    );
    const threeLabels = tf.ones([3]) as tf.Tensor1D;
    expect(() => deepMaskLoss({ ...inputs, labels: threeLabels })).toThrow(
      /labels has shape \[3\] but maskLogits has shape \[2, 2, 2\]/,
    );
    expect(() => deepMaskLoss({ ...inputs, scoreLogits: tf.zeros([2, 1]) as never })).toThrow(
      /scoreLogits must be rank 1 \[N\], got shape \[2, 1\]/,
    );
    expect(() => deepMaskLoss({ labels: inputs.labels }, { heads: 'score' })).toThrow(
      /heads 'score' needs scoreLogits/,
    );
    tf.dispose([inputs, small, threeLabels] as never);
  });
});

describe.each(BACKENDS)('mask logits at label size on %s', (backend) => {
  beforeAll(() => useBackend(backend));

  it('equals tf.image.resizeBilinear with half-pixel centres (which the pyramid uses at inference)', async () => {
    const { maskLogitsAtLabelSize } = await import('../src/mask-at-label-size.js');
    const logits = tf.randomNormal([2, 5, 5]) as tf.Tensor3D;
    const ours = maskLogitsAtLabelSize(logits, 12);
    const reference = tf.image.resizeBilinear(tf.expandDims(logits, 3) as tf.Tensor4D, [12, 12], false, true);
    const difference = tf.max(tf.abs(tf.sub(tf.reshape(reference, [2, 12, 12]), ours))).dataSync()[0];
    expect(difference).toBeLessThan(1e-5);
    tf.dispose([logits, ours, reference]);
  });
});
