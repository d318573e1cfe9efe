import * as tf from '@tensorflow/tfjs-core';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { dropout, dropoutMultipliers } from '../src/dropout.js';
import { describeEachBackend } from './backends.js';

describe('dropoutMultipliers', () => {
  it.each([0.1, 0.5, 0.9])(
    'keeps a fraction 1 - %f of the values, scaled by 1 / (1 - rate), else 0',
    (rate) => {
      const size = 200_000;
      const multipliers = dropoutMultipliers(size, rate, 0.123);
      const kept = multipliers.filter((m) => m !== 0);
      expect(new Set(kept)).toEqual(new Set([Math.fround(1 / (1 - rate))]));
      // Binomial standard deviation sqrt(rate (1 - rate) / size) <= 0.0012: within 4 of them.
      expect(Math.abs(kept.length / size - (1 - rate))).toBeLessThan(0.005);
    },
  );

  it('draws independent positions: neighbours are kept together as often as chance says', () => {
    const multipliers = dropoutMultipliers(100_000, 0.5, 0.77);
    let both = 0;
    for (let i = 1; i < multipliers.length; i++) if (multipliers[i] !== 0 && multipliers[i - 1] !== 0) both++;
    expect(Math.abs(both / (multipliers.length - 1) - 0.25)).toBeLessThan(0.006);
  });

  it('is a function of its seed', () => {
    expect(dropoutMultipliers(64, 0.5, 0.25)).toEqual(dropoutMultipliers(64, 0.5, 0.25));
    expect(dropoutMultipliers(64, 0.5, 0.25)).not.toEqual(dropoutMultipliers(64, 0.5, 0.26));
  });
});

describeEachBackend('dropout', () => {
  afterEach(() => {
    vi.restoreAllMocks();
  });

  it('multiplies by the multipliers of a seed drawn from Math.random, and so does its gradient', () => {
    vi.spyOn(Math, 'random').mockReturnValue(0.625);
    const multipliers = dropoutMultipliers(6 * 7, 0.3, 0.625);
    const x = tf.tensor2d(
      Array.from({ length: 42 }, (_, i) => i - 20),
      [6, 7],
    );
    const y = dropout(x, 0.3);
    expect(y.shape).toEqual([6, 7]);
    expect(Array.from(y.dataSync())).toEqual(
      Array.from(x.dataSync(), (v, i) => Math.fround(v * multipliers[i])),
    );
    const gradient = tf.grad((input: tf.Tensor) => tf.sum(dropout(input, 0.3)))(x);
    expect(Array.from(gradient.dataSync())).toEqual(Array.from(multipliers));
    expect(Math.random).toHaveBeenCalledTimes(2);
    tf.dispose([x, y, gradient]);
  });
});
