import { type Rle, rleArea, rleToBbox } from './rle.js';

export type Box = readonly [x: number, y: number, width: number, height: number] | ArrayLike<number>;

/** IoU of two boxes [x, y, w, h]; for a crowd gt the union is the detection's area (`bbIou`). */
export function boxIouPair(d: Box, g: Box, crowd: boolean): number {
  const w = Math.min(d[2] + d[0], g[2] + g[0]) - Math.max(d[0], g[0]);
  if (w <= 0) return 0;
  const h = Math.min(d[3] + d[1], g[3] + g[1]) - Math.max(d[1], g[1]);
  if (h <= 0) return 0;
  const i = w * h;
  const da = d[2] * d[3];
  const u = crowd ? da : da + g[2] * g[3] - i;
  return i / u;
}

/**
 * IoU of two masks straight from their runs (`rleIou`), after the test on their boxes; -1 for masks of
 * different sizes. Boxes may be passed in when already known.
 */
export function rleIouPair(
  dt: Rle,
  gt: Rle,
  crowd: boolean,
  dtBox: Box = rleToBbox(dt),
  gtBox: Box = rleToBbox(gt),
): number {
  if (boxIouPair(dtBox, gtBox, crowd) <= 0) return 0;
  if (dt.size[0] !== gt.size[0] || dt.size[1] !== gt.size[1]) return -1;
  const A = dt.counts;
  const B = gt.counts;
  const ka = A.length;
  const kb = B.length;
  let ca = A[0];
  let cb = B[0];
  let va = 0;
  let vb = 0;
  let a = 1;
  let b = 1;
  let inter = 0;
  let union = 0;
  let ct = 1;
  while (ct > 0) {
    const c = Math.min(ca, cb);
    if (va | vb) {
      union += c;
      if (va & vb) inter += c;
    }
    ct = 0;
    ca -= c;
    if (!ca && a < ka) {
      ca = A[a++];
      va ^= 1;
    }
    ct += ca;
    cb -= c;
    if (!cb && b < kb) {
      cb = B[b++];
      vb ^= 1;
    }
    ct += cb;
  }
  if (inter === 0) return 0;
  if (crowd) union = rleArea(dt);
  return inter / union;
}

/** True when no run after the first is empty: what encoders write, and what `maskIouFast` needs. */
export function hasNoEmptyRuns(counts: Uint32Array): boolean {
  for (let i = 1; i < counts.length; i++) if (counts[i] === 0) return false;
  return true;
}

/**
 * A mask with what IoU needs precomputed. Results' masks stay compressed (`encoded`) until an IoU needs
 * their runs, so 100k proposals never sit decoded in memory at once.
 */
export interface MaskFacts {
  size: [number, number];
  counts: Uint32Array | null;
  encoded: string | null;
  box: [number, number, number, number];
  area: number;
  /** Number of counts. */
  runs: number;
  noEmptyRuns: boolean;
}

export function maskFacts(rle: Rle): MaskFacts {
  const noEmptyRuns = hasNoEmptyRuns(rle.counts);
  return {
    size: rle.size,
    counts: rle.counts,
    encoded: null,
    box: rleToBbox(rle),
    area: rleArea(rle),
    runs: rle.counts.length,
    noEmptyRuns,
  };
}

/**
 * The same value as `rleIouPair`, faster: it sweeps only the columns both boxes cover and takes the union
 * from the areas. Falls back to `rleIouPair` where a mask has empty runs (the C sweep can stop early there).
 * `A` and `B` hold the runs of `dt` and `gt` (and may be longer than `runs`).
 */
export function maskIouFast(
  dt: MaskFacts,
  A: Uint32Array,
  gt: MaskFacts,
  B: Uint32Array,
  crowd: boolean,
): number {
  if (!dt.noEmptyRuns || !gt.noEmptyRuns) {
    const dtRle = { size: dt.size, counts: A.subarray(0, dt.runs) };
    return rleIouPair(dtRle, { size: gt.size, counts: B.subarray(0, gt.runs) }, crowd, dt.box, gt.box);
  }
  if (boxIouPair(dt.box, gt.box, crowd) <= 0) return 0;
  const h = dt.size[0];
  if (h !== gt.size[0] || dt.size[1] !== gt.size[1]) return -1;
  // outside the columns both boxes cover one mask is empty, so only 1-runs reaching into them count
  const start = Math.max(dt.box[0], gt.box[0]) * h;
  const end = Math.min(dt.box[0] + dt.box[2], gt.box[0] + gt.box[2]) * h;
  const na = dt.runs;
  const nb = gt.runs;
  // [as, ae) and [bs, be): the current 1-runs (Infinity when none is left); a and b index the next count
  let a = 0;
  let as = 0;
  let ae = 0;
  do {
    if (a >= na) as = ae = Number.POSITIVE_INFINITY;
    else {
      as = ae + A[a];
      ae = a + 1 < na ? as + A[a + 1] : as;
      a += 2;
    }
  } while (ae <= start);
  let b = 0;
  let bs = 0;
  let be = 0;
  do {
    if (b >= nb) bs = be = Number.POSITIVE_INFINITY;
    else {
      bs = be + B[b];
      be = b + 1 < nb ? bs + B[b + 1] : bs;
      b += 2;
    }
  } while (be <= start);
  let inter = 0;
  while (as < end && bs < end) {
    const lo = Math.max(as, bs);
    const hi = Math.min(ae, be);
    if (hi > lo) inter += hi - lo;
    if (ae < be) {
      if (a >= na) break;
      as = ae + A[a];
      ae = a + 1 < na ? as + A[a + 1] : as;
      a += 2;
    } else {
      if (b >= nb) break;
      bs = be + B[b];
      be = b + 1 < nb ? bs + B[b + 1] : bs;
      b += 2;
    }
  }
  if (inter === 0) return 0;
  return inter / (crowd ? dt.area : dt.area + gt.area - inter);
}

/** D x G matrix of box IoUs (rows detections); an empty list when either side is empty. */
export function boxIou(dts: readonly Box[], gts: readonly Box[], isCrowd: readonly boolean[]): number[][] {
  if (dts.length === 0 || gts.length === 0) return [];
  return dts.map((d) => gts.map((g, j) => boxIouPair(d, g, isCrowd[j] === true)));
}

/** D x G matrix of mask IoUs (rows detections), -1 where sizes differ; empty when either side is. */
export function maskIou(dts: readonly Rle[], gts: readonly Rle[], isCrowd: readonly boolean[]): number[][] {
  if (dts.length === 0 || gts.length === 0) return [];
  const gtBoxes = gts.map(rleToBbox);
  return dts.map((d) => {
    const dBox = rleToBbox(d);
    return gts.map((g, j) => rleIouPair(d, g, isCrowd[j] === true, dBox, gtBoxes[j]));
  });
}
