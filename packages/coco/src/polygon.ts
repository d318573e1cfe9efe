import type { Rle } from './rle.js';

const SCALE = 5;

/**
 * Rasterises one polygon [x0, y0, x1, y1, ...] exactly as the COCO API's `rleFrPoly`: the outline is
 * traced on a 5x finer grid and each column's crossings become run boundaries.
 */
export function rleFromPolygon(xy: ArrayLike<number>, height: number, width: number): Rle {
  const k = xy.length >> 1;
  const x = new Int32Array(k + 1);
  const y = new Int32Array(k + 1);
  for (let j = 0; j < k; j++) x[j] = Math.trunc(SCALE * xy[2 * j] + 0.5);
  for (let j = 0; j < k; j++) y[j] = Math.trunc(SCALE * xy[2 * j + 1] + 0.5);
  x[k] = x[0];
  y[k] = y[0];
  let n = 0;
  for (let j = 0; j < k; j++) n += Math.max(Math.abs(x[j] - x[j + 1]), Math.abs(y[j] - y[j + 1])) + 1;
  const u = new Int32Array(n);
  const v = new Int32Array(n);
  n = 0;
  for (let j = 0; j < k; j++) {
    let xs = x[j];
    let xe = x[j + 1];
    let ys = y[j];
    let ye = y[j + 1];
    const dx = Math.abs(xe - xs);
    const dy = Math.abs(ys - ye);
    const flip = (dx >= dy && xs > xe) || (dx < dy && ys > ye);
    if (flip) {
      const t = xs;
      xs = xe;
      xe = t;
      const t2 = ys;
      ys = ye;
      ye = t2;
    }
    if (dx >= dy) {
      const s = (ye - ys) / dx;
      for (let d = 0; d <= dx; d++) {
        const t = flip ? dx - d : d;
        u[n] = t + xs;
        v[n] = Math.trunc(ys + s * t + 0.5);
        n++;
      }
    } else {
      const s = (xe - xs) / dy;
      for (let d = 0; d <= dy; d++) {
        const t = flip ? dy - d : d;
        v[n] = t + ys;
        u[n] = Math.trunc(xs + s * t + 0.5);
        n++;
      }
    }
  }
  const a = new Uint32Array(n + 1);
  let k2 = 0;
  for (let j = 1; j < n; j++) {
    if (u[j] === u[j - 1]) continue;
    let xd = u[j] < u[j - 1] ? u[j] : u[j] - 1;
    xd = (xd + 0.5) / SCALE - 0.5;
    if (Math.floor(xd) !== xd || xd < 0 || xd > width - 1) continue;
    let yd = Math.min(v[j], v[j - 1]);
    yd = (yd + 0.5) / SCALE - 0.5;
    if (yd < 0) yd = 0;
    else if (yd > height) yd = height;
    yd = Math.ceil(yd);
    a[k2++] = xd * height + yd;
  }
  a[k2++] = height * width;
  a.subarray(0, k2).sort();
  let previous = 0;
  for (let j = 0; j < k2; j++) {
    const t = a[j];
    a[j] -= previous;
    previous = t;
  }
  const b = new Uint32Array(k2);
  let m = 0;
  let j = 0;
  b[m++] = a[j++];
  while (j < k2) {
    if (a[j] > 0) b[m++] = a[j++];
    else {
      j++;
      if (j < k2) b[m - 1] += a[j++];
    }
  }
  return { size: [height, width], counts: b.slice(0, m) };
}

/** Box [x, y, width, height] as the polygon (x,y), (x,y+h), (x+w,y+h), (x+w,y) (`rleFrBbox`). */
export function rleFromBox(box: ArrayLike<number>, height: number, width: number): Rle {
  const xs = box[0];
  const xe = xs + box[2];
  const ys = box[1];
  const ye = ys + box[3];
  return rleFromPolygon([xs, ys, xs, ye, xe, ye, xe, ys], height, width);
}
