import { describe, expect, it } from 'vitest';
import { seededRandom as seeded } from '../bench/proposals.js';
import {
  maskIou,
  mergeRles,
  type Rle,
  rleArea,
  rleDecode,
  rleEncode,
  rleFromCocoJson,
  rleFromRowMajor,
  rleFromString,
  rleToBbox,
  rleToCocoJson,
  rleToRowMajor,
  rleToString,
} from '../src/index.js';
import { maskFacts, maskIouFast, rleIouPair } from '../src/iou.js';
import { decodeCountsInto, scanCountsString } from '../src/rle-string.js';

/** Column-major masks: empty, full, noise, and a few rectangles (long runs that wrap columns). */
function randomMask(random: () => number, h: number, w: number): Uint8Array {
  const mask = new Uint8Array(h * w);
  const kind = Math.floor(random() * 4);
  if (kind === 1) mask.fill(1);
  if (kind === 2) for (let i = 0; i < mask.length; i++) mask[i] = random() < 0.4 ? 1 : 0;
  if (kind === 3) {
    for (let r = 0; r < 3; r++) {
      const x0 = Math.floor(random() * w);
      const y0 = Math.floor(random() * h);
      const x1 = x0 + Math.floor(random() * (w - x0 + 1));
      const y1 = y0 + Math.floor(random() * (h - y0 + 1));
      for (let x = x0; x < x1; x++) for (let y = y0; y < y1; y++) mask[x * h + y] = 1;
    }
  }
  return mask;
}

function bruteBox(mask: Uint8Array, h: number, w: number): number[] {
  let xs = w;
  let ys = h;
  let xe = -1;
  let ye = -1;
  for (let x = 0; x < w; x++)
    for (let y = 0; y < h; y++)
      if (mask[x * h + y]) {
        xs = Math.min(xs, x);
        xe = Math.max(xe, x);
        ys = Math.min(ys, y);
        ye = Math.max(ye, y);
      }
  return xe < 0 ? [0, 0, 0, 0] : [xs, ys, xe - xs + 1, ye - ys + 1];
}

const CASES = 200;

describe('RLE encode / decode / compress on random masks (seeded)', () => {
  it('round-trips column-major masks, row-major masks and counts strings', () => {
    const random = seeded(7);
    for (let n = 0; n < CASES; n++) {
      const h = 1 + Math.floor(random() * 17);
      const w = 1 + Math.floor(random() * 17);
      const mask = randomMask(random, h, w);
      const rle = rleEncode(mask, h, w);
      expect(rle.counts.reduce((s, c) => s + c, 0)).toBe(h * w);
      expect(rleDecode(rle)).toEqual(mask);
      const rowMajor = new Uint8Array(h * w);
      for (let x = 0; x < w; x++) for (let y = 0; y < h; y++) rowMajor[y * w + x] = mask[x * h + y];
      expect(rleFromRowMajor(rowMajor, h, w)).toEqual(rle);
      expect(rleToRowMajor(rle)).toEqual(rowMajor);
      const text = rleToString(rle);
      expect(rleFromString(text, h, w)).toEqual(rle);
      expect(rleFromCocoJson(rleToCocoJson(rle))).toEqual(rle);
      expect(rleFromCocoJson({ size: [h, w], counts: Array.from(rle.counts) })).toEqual(rle);
    }
  });

  it('measures area and box as a pixel count does, from runs and straight from the string', () => {
    const random = seeded(11);
    for (let n = 0; n < CASES; n++) {
      const h = 1 + Math.floor(random() * 17);
      const w = 1 + Math.floor(random() * 17);
      const mask = randomMask(random, h, w);
      const rle = rleEncode(mask, h, w);
      const area = mask.reduce((s, v) => s + v, 0);
      expect(rleArea(rle)).toBe(area);
      expect(rleToBbox(rle)).toEqual(bruteBox(mask, h, w));
      const scan = scanCountsString(rleToString(rle), h, w);
      expect(scan).toEqual({ length: rle.counts.length, area, box: rleToBbox(rle), noEmptyRuns: true });
    }
  });

  it('keeps counts beyond 2^16 and decodes into a reused buffer', () => {
    const rle: Rle = { size: [3000, 2000], counts: Uint32Array.from([5_000_000, 700_000, 299_999, 1]) };
    const text = rleToString(rle);
    expect(rleFromString(text, 3000, 2000)).toEqual(rle);
    const out = new Uint32Array(16).fill(99);
    expect(decodeCountsInto(text, out)).toBe(4);
    expect(Array.from(out.subarray(0, 4))).toEqual(Array.from(rle.counts));
  });

  it('merges and intersects like a pixelwise OR / AND', () => {
    const random = seeded(13);
    for (let n = 0; n < CASES; n++) {
      const h = 1 + Math.floor(random() * 12);
      const w = 1 + Math.floor(random() * 12);
      const masks = [0, 1, 2].map(() => randomMask(random, h, w));
      const rles = masks.map((m) => rleEncode(m, h, w));
      const or = masks[0].map((v, i) => v | masks[1][i] | masks[2][i]);
      const and = masks[0].map((v, i) => v & masks[1][i] & masks[2][i]);
      expect(mergeRles(rles)).toEqual(rleEncode(or, h, w));
      expect(mergeRles(rles, true)).toEqual(rleEncode(and, h, w));
    }
    expect(mergeRles([rleEncode(new Uint8Array(4), 2, 2), rleEncode(new Uint8Array(6), 2, 3)]).size).toEqual([
      0, 0,
    ]);
  });

  it('computes mask IoU as pixel counts do, the fast sweep equal to the COCO sweep', () => {
    const random = seeded(17);
    for (let n = 0; n < CASES; n++) {
      const h = 1 + Math.floor(random() * 15);
      const w = 1 + Math.floor(random() * 15);
      const a = randomMask(random, h, w);
      const b = randomMask(random, h, w);
      const [ra, rb] = [rleEncode(a, h, w), rleEncode(b, h, w)];
      let inter = 0;
      let union = 0;
      let areaA = 0;
      for (let i = 0; i < h * w; i++) {
        inter += a[i] & b[i];
        union += a[i] | b[i];
        areaA += a[i];
      }
      for (const crowd of [false, true]) {
        const expected = inter === 0 ? 0 : inter / (crowd ? areaA : union);
        expect(maskIou([ra], [rb], [crowd])[0][0]).toBeCloseTo(expected, 12);
        // runs may sit in a longer scratch buffer: what follows them must not be read
        const padded = (c: Uint32Array) => {
          const out = new Uint32Array(c.length + 4).fill(3);
          out.set(c);
          return out;
        };
        expect(maskIouFast(maskFacts(ra), padded(ra.counts), maskFacts(rb), padded(rb.counts), crowd)).toBe(
          rleIouPair(ra, rb, crowd),
        );
      }
    }
  });

  it('gives -1 for masks of different sizes that overlap, [] when a side is empty', () => {
    const a = rleEncode(new Uint8Array(16).fill(1), 4, 4);
    const b = rleEncode(new Uint8Array(20).fill(1), 4, 5);
    expect(maskIou([a], [b], [false])).toEqual([[-1]]);
    expect(maskIou([], [b], [false])).toEqual([]);
  });

  it('follows the COCO sweep on run lists with empty runs inside (uncompressed RLE)', () => {
    const dt = rleFromCocoJson({ size: [2, 3], counts: [1, 2, 0, 1, 2] });
    const gt = rleFromCocoJson({ size: [2, 3], counts: [0, 3, 3] });
    expect(maskIouFast(maskFacts(dt), dt.counts, maskFacts(gt), gt.counts, false)).toBe(
      rleIouPair(dt, gt, false),
    );
  });
});
