import { CocoFormatError } from './errors.js';
import type { Rle } from './rle.js';

/** The COCO API's compressed `counts` string (`rleToString`): LEB128-like, deltas from index 3 on. */
export function rleToString(rle: Rle): string {
  const cnts = rle.counts;
  const chars: number[] = [];
  for (let i = 0; i < cnts.length; i++) {
    let x = cnts[i];
    if (i > 2) x -= cnts[i - 2];
    let more = true;
    while (more) {
      // arithmetic shift of a signed 64-bit value, kept exact in doubles
      const high = Math.floor(x / 32);
      let c = x - high * 32;
      x = high;
      more = c & 0x10 ? x !== -1 : x !== 0;
      if (more) c |= 0x20;
      chars.push(c + 48);
    }
  }
  let s = '';
  for (let i = 0; i < chars.length; i += 8192) s += String.fromCharCode(...chars.slice(i, i + 8192));
  return s;
}

/** What one pass over a compressed string tells without storing the counts. */
export interface CountsScan {
  /** Number of counts. */
  length: number;
  area: number;
  /** `rleToBbox` of the mask. */
  box: [number, number, number, number];
  /** No run after the first is empty. */
  noEmptyRuns: boolean;
}

/**
 * Validates a compressed `counts` string (`rleFrString`) and measures its mask in one pass. Returns an
 * error text for a string the COCO API would not write (bad characters, a truncated count, counts not
 * summing to h*w).
 */
export function scanCountsString(s: string, height: number, width: number): CountsScan | string {
  const n = s.length;
  let p = 0;
  let i = 0;
  let sum = 0;
  let area = 0;
  let noEmptyRuns = true;
  let previous2 = 0;
  let previous1 = 0;
  // rleToBbox, fed one count at a time; an even-index count waits for its partner (a last one is dropped)
  let pending = 0;
  let cc = 0;
  let xs = width;
  let ys = height;
  let xe = 0;
  let ye = 0;
  while (p < n) {
    let x = 0;
    let scale = 1;
    let c: number;
    let k = 0;
    do {
      if (p >= n) return 'counts string ends inside a run length';
      c = s.charCodeAt(p++) - 48;
      if (c < 0 || c > 63) return `counts string has the character ${JSON.stringify(s[p - 1])} at ${p - 1}`;
      x += (c & 0x1f) * scale;
      scale *= 32;
      k++;
    } while (c & 0x20);
    if (k > 10) return `counts string has a run length longer than 10 characters before ${p}`;
    if (c & 0x10) x -= scale;
    if (i > 2) x += previous2;
    const count = x >>> 0;
    previous2 = previous1;
    previous1 = count;
    sum += count;
    if (i > 0 && count === 0) noEmptyRuns = false;
    if ((i & 1) === 0) pending = count;
    else {
      area += count;
      // the two points rleToBbox visits for this pair: first pixel of the 1-run, then its last pixel
      cc += pending;
      let y = cc % height;
      let x = (cc - y) / height;
      const xp = x;
      if (x < xs) xs = x;
      if (x > xe) xe = x;
      if (y < ys) ys = y;
      if (y > ye) ye = y;
      cc += count;
      const t = cc - 1;
      y = t % height;
      x = (t - y) / height;
      if (xp < x) {
        ys = 0;
        ye = height - 1;
      }
      if (x < xs) xs = x;
      if (x > xe) xe = x;
      if (y < ys) ys = y;
      if (y > ye) ye = y;
    }
    i++;
  }
  if (sum !== height * width) {
    return `counts sum to ${sum} pixels, but size ${height}x${width} has ${height * width}`;
  }
  const box: [number, number, number, number] = i < 2 ? [0, 0, 0, 0] : [xs, ys, xe - xs + 1, ye - ys + 1];
  return { length: i, area, box, noEmptyRuns };
}

/** Decodes a string that `scanCountsString` accepted into `out` (at least `scan.length` long). */
export function decodeCountsInto(s: string, out: Uint32Array): number {
  let p = 0;
  let i = 0;
  while (p < s.length) {
    let x = 0;
    let scale = 1;
    let c: number;
    do {
      c = s.charCodeAt(p++) - 48;
      x += (c & 0x1f) * scale;
      scale *= 32;
    } while (c & 0x20);
    if (c & 0x10) x -= scale;
    if (i > 2) x += out[i - 2];
    out[i++] = x >>> 0;
  }
  return i;
}

/** Decodes a compressed `counts` string, or returns the reason it is malformed. */
export function countsFromString(s: string, height: number, width: number): Uint32Array | string {
  const scan = scanCountsString(s, height, width);
  if (typeof scan === 'string') return scan;
  const out = new Uint32Array(scan.length);
  decodeCountsInto(s, out);
  return out;
}

/** RLE from a compressed `counts` string and its size; throws CocoFormatError for a malformed string. */
export function rleFromString(counts: string, height: number, width: number): Rle {
  const decoded = countsFromString(counts, height, width);
  if (typeof decoded === 'string') throw new CocoFormatError('rle', `bad RLE: ${decoded}`);
  return { size: [height, width], counts: decoded };
}
