import { rleArea, rleFromRowMajor, rleToBbox } from '@deepmask/coco';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { describe, expect, it } from 'vitest';
import { pasteMask } from '../src/index.js';
import { pasteMaskLogits, probabilityToLogit } from '../src/paste.js';
import type { Proposal } from '../src/types.js';

const T02 = probabilityToLogit(0.2);

/** Row-major mask of `height x width` with the given pixels `[x, y]` on. */
function maskOf(height: number, width: number, on: [number, number][]) {
  const mask = new Uint8Array(height * width);
  for (const [x, y] of on) mask[y * width + x] = 1;
  return mask;
}

function block(x0: number, y0: number, w: number, h: number): [number, number][] {
  const on: [number, number][] = [];
  for (let y = y0; y < y0 + h; y++) for (let x = x0; x < x0 + w; x++) on.push([x, y]);
  return on;
}

describe('pasteMaskLogits', () => {
  // 2x2 logits, top-left on, resized to a 4x4 patch: along each axis the samples sit at source
  // -0.25 (clamped to 0), 0.25, 0.75, 1.25 (clamped to 1), so row 0 reads 5, 2.5, -2.5, -5 and
  // row 1 (weight .25 of the bottom row, all -5) reads 2.5, 0.625, -3.125, -5.
  const topLeft = Float32Array.from([5, -5, -5, -5]);

  it('pastes a known mask at a known place as the expected RLE', () => {
    const rle = pasteMaskLogits(topLeft, 2, [10, 20, 4, 4], T02, 40, 50);
    expect(rle).toEqual(rleFromRowMajor(maskOf(40, 50, block(10, 20, 2, 2)), 40, 50));
    expect(rleToBbox(rle)).toEqual([10, 20, 2, 2]);
  });

  it('thresholds as a probability', () => {
    // logit(.9) = 2.197: 5, 2.5 and 2.5 pass, 0.625 does not
    const rle = pasteMaskLogits(topLeft, 2, [10, 20, 4, 4], probabilityToLogit(0.9), 40, 50);
    expect(rle).toEqual(
      rleFromRowMajor(
        maskOf(40, 50, [
          [10, 20],
          [11, 20],
          [10, 21],
        ]),
        40,
        50,
      ),
    );
  });

  it('clips at the borders', () => {
    const bottomRight = Float32Array.from([-5, -5, -5, 5]);
    // the patch's on quarter (its columns/rows 2..3) lands on image pixels 0..1
    expect(pasteMaskLogits(bottomRight, 2, [-2, -2, 4, 4], T02, 5, 6)).toEqual(
      rleFromRowMajor(maskOf(5, 6, block(0, 0, 2, 2)), 5, 6),
    );
    expect(pasteMaskLogits(topLeft, 2, [4, 3, 4, 4], T02, 5, 6)).toEqual(
      rleFromRowMajor(maskOf(5, 6, block(4, 3, 2, 2)), 5, 6),
    );
    const outside = pasteMaskLogits(topLeft, 2, [-10, 0, 4, 4], T02, 5, 6);
    expect(rleArea(outside)).toBe(0);
    expect(outside.counts).toEqual(Uint32Array.from([30]));
  });

  it('equals tf.image.resizeBilinear (half-pixel centres) of the logits pasted at an integer box', () => {
    const size = 4;
    const logits = Float32Array.from({ length: size * size }, (_, k) => Math.sin(k * 1.7) * 4);
    const resized = tf.tidy(() =>
      tf.image.resizeBilinear(tf.tensor4d(logits, [1, size, size, 1]), [12, 12], false, true).dataSync(),
    );
    const on: [number, number][] = [];
    for (let y = 0; y < 12; y++)
      for (let x = 0; x < 12; x++) if (resized[y * 12 + x] > T02) on.push([x + 5, y + 6]);
    expect(pasteMaskLogits(logits, size, [5, 6, 12, 12], T02, 20, 30)).toEqual(
      rleFromRowMajor(maskOf(20, 30, on), 20, 30),
    );
  });

  it('equals a per-pixel bilinear paste over the whole image for a fractional box', () => {
    const size = 5;
    const logits = Float32Array.from({ length: size * size }, (_, k) => Math.cos(k * 2.3) * 3);
    const box = [3.3, -7.6, 21.7, 19.2] as const;
    const [height, width] = [17, 23];
    const at = (r: number, c: number) => logits[r * size + c];
    const on: [number, number][] = [];
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        const [cx, cy] = [x + 0.5, y + 0.5];
        if (cx < box[0] || cx >= box[0] + box[2] || cy < box[1] || cy >= box[1] + box[3]) continue;
        const u = Math.min(size - 1, Math.max(0, ((cx - box[0]) * size) / box[2] - 0.5));
        const v = Math.min(size - 1, Math.max(0, ((cy - box[1]) * size) / box[3] - 0.5));
        const [u0, v0] = [Math.floor(u), Math.floor(v)];
        const [u1, v1] = [Math.min(size - 1, u0 + 1), Math.min(size - 1, v0 + 1)];
        const [a, b] = [u - u0, v - v0];
        const value =
          (1 - b) * ((1 - a) * at(v0, u0) + a * at(v0, u1)) + b * ((1 - a) * at(v1, u0) + a * at(v1, u1));
        if (value > T02) on.push([x, y]);
      }
    }
    expect(on.length).toBeGreaterThan(10);
    expect(pasteMaskLogits(logits, size, box, T02, height, width)).toEqual(
      rleFromRowMajor(maskOf(height, width, on), height, width),
    );
  });

  it('rejects logits of the wrong size and thresholds outside (0, 1)', () => {
    expect(() => pasteMaskLogits(topLeft, 3, [0, 0, 4, 4], T02, 5, 5)).toThrow(/3x3/);
    expect(() => probabilityToLogit(1)).toThrow(/maskThreshold is 1/);
  });
});

describe('pasteMask', () => {
  const proposal: Proposal = {
    score: 0.9,
    bbox: [10, 20, 2, 2],
    rle: pasteMaskLogits(Float32Array.from([5, -5, -5, -5]), 2, [10, 20, 4, 4], T02, 40, 50),
    scale: 1,
    x: 12,
    y: 22,
    patchBox: [10, 20, 4, 4],
    maskLogits: Float32Array.from([5, -5, -5, -5]),
  };

  it('re-thresholds kept mask logits without the network', () => {
    expect(pasteMask(proposal, 0.2, 40, 50)).toEqual(proposal.rle);
    expect(rleArea(pasteMask(proposal, 0.9, 40, 50))).toBe(3);
  });

  it('asks for keepMaskLogits when the logits were not kept', () => {
    expect(() => pasteMask({ ...proposal, maskLogits: undefined }, 0.5, 40, 50)).toThrow(/keepMaskLogits/);
  });
});
