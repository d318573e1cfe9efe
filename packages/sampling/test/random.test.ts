import { describe, expect, it } from 'vitest';
import { randomStream } from '../src/random.js';

describe('randomStream', () => {
  it('is a pure function of seed and counters', () => {
    const draw = (seed: number, ...counters: number[]) => {
      const random = randomStream(seed, ...counters);
      return Array.from({ length: 5 }, () => random.next());
    };
    expect(draw(7, 3, 1)).toEqual(draw(7, 3, 1));
    expect(draw(7, 3, 1)).not.toEqual(draw(7, 3, 2));
    expect(draw(7, 3, 1)).not.toEqual(draw(8, 3, 1));
    expect(draw(2 ** 40 + 7, 3, 1)).not.toEqual(draw(7, 3, 1));
  });

  it('fills [0, 1) evenly', () => {
    const random = randomStream(1, 2);
    const bins = new Array(10).fill(0);
    let outside = 0;
    for (let i = 0; i < 100_000; i++) {
      const x = random.next();
      if (!(x >= 0 && x < 1)) outside++;
      bins[Math.floor(x * 10)]++;
    }
    expect(outside).toBe(0);
    for (const count of bins) expect(Math.abs(count - 10_000)).toBeLessThan(500);
  });

  it('gives independent-looking neighbouring streams', () => {
    // First draws of consecutive batch indices must not correlate (a weak hash would make them close).
    const firsts = Array.from({ length: 10_000 }, (_, i) => randomStream(0, i, 0).next());
    const mean = firsts.reduce((a, b) => a + b) / firsts.length;
    let lagged = 0;
    for (let i = 1; i < firsts.length; i++) lagged += (firsts[i] - mean) * (firsts[i - 1] - mean);
    expect(Math.abs(mean - 0.5)).toBeLessThan(0.01);
    expect(Math.abs(lagged / (firsts.length - 1) / (1 / 12))).toBeLessThan(0.05);
  });
});
