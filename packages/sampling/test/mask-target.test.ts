import type { Rle } from '@deepmask/coco';
import { describe, expect, it } from 'vitest';
import { maskTarget } from '../src/mask-target.js';

/** Column-major RLE of the rectangle [x0, x1) x [y0, y1) in an image of width x height, built by hand. */
function rectangleRle(width: number, height: number, x0: number, x1: number, y0: number, y1: number): Rle {
  const counts: number[] = [];
  let zeros = x0 * height;
  for (let x = x0; x < x1; x++) {
    counts.push(zeros + y0, y1 - y0);
    zeros = height - y1;
  }
  counts.push(zeros + (width - x1) * height);
  return { size: [height, width], counts: Uint32Array.from(counts) };
}

describe('maskTarget', () => {
  const rle = rectangleRle(50, 40, 10, 30, 5, 25); // 20 x 20 at (10, 5)

  function target(
    centreX: number,
    centreY: number,
    scale: number,
    flipped: boolean,
    iSz: number,
    labelSz: number,
  ) {
    const out = new Float32Array(labelSz * labelSz);
    maskTarget(rle, { centreX, centreY, scale, flipped }, iSz, labelSz, out, 0);
    return out;
  }

  it('is +1 exactly where each label pixel centre falls in the object', () => {
    // iSz 32, L 16, scale 1: label pixel a covers patch [2a, 2a + 2), centre 2a + 1 -> image x = 20 - 16 + 2a + 1.
    const out = target(20, 15, 1, false, 32, 16);
    for (let b = 0; b < 16; b++) {
      for (let a = 0; a < 16; a++) {
        const x = 5 + 2 * a;
        const y = 15 - 16 + 2 * b + 1;
        const inside = x >= 10 && x < 30 && y >= 5 && y < 25;
        expect(out[b * 16 + a]).toBe(inside ? 1 : -1);
      }
    }
  });

  it('mirrors under a flip and is -1 outside the image', () => {
    const plain = target(12, 15, 1, false, 32, 16);
    const flipped = target(12, 15, 1, true, 32, 16);
    for (let b = 0; b < 16; b++) {
      for (let a = 0; a < 16; a++) expect(flipped[b * 16 + a]).toBe(plain[b * 16 + (15 - a)]);
    }
    // Centred past the right edge: nothing of the (right-side-free) image region is the object.
    expect(target(70, 15, 1, false, 32, 16).every((v) => v === -1)).toBe(true);
  });
});
