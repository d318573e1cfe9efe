import { describe, expect, it } from 'vitest';
import type { Rgb } from '../src/config.js';
import { cropPatch } from '../src/crop.js';
import type { RgbImage } from '../src/types.js';

/** R = x, G = y, B = 7: every sample tells where it was read. */
function coordinateImage(width: number, height: number): RgbImage {
  const data = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) data.set([x, y, 7], (y * width + x) * 3);
  }
  return { width, height, data };
}

const mean: Rgb = [100, 150, 200];

function crop(
  image: RgbImage,
  centreX: number,
  centreY: number,
  scale: number,
  flipped: boolean,
  size: number,
) {
  const out = new Float32Array(size * size * 3 + 5).fill(-9);
  cropPatch(image, image.width, image.height, { centreX, centreY, scale, flipped }, size, mean, out, 5);
  const at = (u: number, v: number) =>
    Array.from(out.subarray(5 + (v * size + u) * 3, 5 + (v * size + u) * 3 + 3));
  return { out, at };
}

describe('cropPatch', () => {
  const image = coordinateImage(40, 30);

  it('copies pixels exactly at scale 1 and mirrors them when flipped', () => {
    // Patch pixel u has its centre at image x = 20 + (u + .5 - 8) = 12.5 + u: the centre of pixel 12 + u.
    const plain = crop(image, 20, 15, 1, false, 16);
    const flipped = crop(image, 20, 15, 1, true, 16);
    for (let v = 0; v < 16; v++) {
      for (let u = 0; u < 16; u++) {
        expect(plain.at(u, v)).toEqual([12 + u, 7 + v, 7]);
        expect(flipped.at(u, v)).toEqual([27 - u, 7 + v, 7]);
      }
    }
    expect(Array.from(plain.out.subarray(0, 5))).toEqual([-9, -9, -9, -9, -9]);
  });

  it('interpolates bilinearly when zooming in', () => {
    // scale 2: patch pixel u reads image x = 20 + (u + .5 - 8) / 2; R is linear in x, so bilinear is exact.
    const { at } = crop(image, 20, 15, 2, false, 16);
    for (const [u, v] of [
      [0, 0],
      [5, 9],
      [15, 15],
    ]) {
      const [r, g] = at(u, v);
      expect(r).toBeCloseTo(20 + (u + 0.5 - 8) / 2 - 0.5, 5);
      expect(g).toBeCloseTo(15 + (v + 0.5 - 8) / 2 - 0.5, 5);
    }
  });

  it('reads the mean colour outside the image and blends it at the border', () => {
    // Centred on the image's corner (0, 0) at scale 1: the top-left quarter of the patch is outside.
    const { at } = crop(image, 0, 0, 1, false, 8);
    expect(at(0, 0)).toEqual(mean);
    expect(at(3, 7)).toEqual(mean);
    expect(at(4, 4)).toEqual([0, 0, 7]);
    expect(at(7, 5)).toEqual([3, 1, 7]);
    // Centre x = -.25: patch pixel 4 reads x = .25, a quarter pixel left of column 0's centre.
    const blended = crop(image, -0.25, 4, 1, false, 8).at(4, 4);
    // Taps at x = -1 (outside, weight .25) and x = 0 (inside, weight .75), y exact.
    expect(blended[0]).toBeCloseTo(0.25 * mean[0] + 0.75 * 0, 5);
    expect(blended[1]).toBeCloseTo(0.25 * mean[1] + 0.75 * 4, 5);
    expect(blended[2]).toBeCloseTo(0.25 * mean[2] + 0.75 * 7, 5);
  });
});

describe('cropPatch from a shrunk decode', () => {
  it('maps full-size coordinates onto the smaller image', () => {
    // A 40 x 30 image decoded at 1/2: 20 x 15 pixels, pixel (x, y) holding (4x, 4y, 7).
    const half = { width: 20, height: 15, data: new Uint8Array(20 * 15 * 3) };
    for (let y = 0; y < 15; y++)
      for (let x = 0; x < 20; x++) half.data.set([4 * x, 4 * y, 7], (y * 20 + x) * 3);
    const out = new Float32Array(8 * 8 * 3);
    cropPatch(half, 40, 30, { centreX: 20, centreY: 15, scale: 0.5, flipped: false }, 8, mean, out, 0);
    for (let v = 0; v < 8; v++) {
      for (let u = 0; u < 8; u++) {
        // Patch pixel u reads full-size x = 20 + (u + .5 - 4) / .5 = 13 + 2u, half-size 6.5 + u: the
        // centre of half pixel 6 + u. Row v reads full-size y = 8 + 2v, half-size 4 + v: midway
        // between the centres of rows 3 + v and 4 + v.
        const at = (v * 8 + u) * 3;
        expect(out[at]).toBeCloseTo(4 * (6 + u), 4);
        expect(out[at + 1]).toBeCloseTo(4 * (3.5 + v), 4);
        expect(out[at + 2]).toBeCloseTo(7, 4);
      }
    }
  });
});
