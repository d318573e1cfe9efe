/**
 * Run-length encoded binary masks with the COCO API's layout (maskApi.c): pixels flattened column-major
 * (pixel (x, y) at x * height + y), counts alternating 0-runs and 1-runs, starting with zeros.
 */
export interface Rle {
  size: [height: number, width: number];
  counts: Uint32Array;
}

/** Column-major binary mask (any non-zero byte is foreground) to RLE (`rleEncode`). */
export function rleEncode(mask: Uint8Array, height: number, width: number): Rle {
  const n = height * width;
  if (mask.length !== n) throw new RangeError(`rleEncode: mask has ${mask.length} pixels, expected ${n}`);
  const counts: number[] = [];
  let value = 0;
  let run = 0;
  for (let j = 0; j < n; j++) {
    const v = mask[j] !== 0 ? 1 : 0;
    if (v !== value) {
      counts.push(run);
      run = 0;
      value = v;
    }
    run++;
  }
  counts.push(run);
  return { size: [height, width], counts: Uint32Array.from(counts) };
}

/** RLE to a column-major mask of 0/1 bytes (`rleDecode`). */
export function rleDecode(rle: Rle): Uint8Array {
  const [h, w] = rle.size;
  const mask = new Uint8Array(h * w);
  let p = 0;
  for (let i = 0; i < rle.counts.length; i++) {
    const end = p + rle.counts[i];
    if (i % 2 === 1) mask.fill(1, p, end);
    p = end;
  }
  return mask;
}

/** Row-major mask (image layout, index y * width + x; non-zero is foreground) to RLE. */
export function rleFromRowMajor(mask: Uint8Array, height: number, width: number): Rle {
  const n = height * width;
  if (mask.length !== n)
    throw new RangeError(`rleFromRowMajor: mask has ${mask.length} pixels, expected ${n}`);
  const columnMajor = new Uint8Array(n);
  for (let y = 0, i = 0; y < height; y++) {
    for (let x = 0; x < width; x++, i++) columnMajor[x * height + y] = mask[i];
  }
  return rleEncode(columnMajor, height, width);
}

/** RLE to a row-major mask of 0/1 bytes (index y * width + x). */
export function rleToRowMajor(rle: Rle): Uint8Array {
  const [h, w] = rle.size;
  const mask = new Uint8Array(h * w);
  let p = 0;
  for (let i = 0; i < rle.counts.length; i++) {
    const end = p + rle.counts[i];
    if (i % 2 === 1) {
      for (let j = p; j < end; j++) {
        const x = (j / h) | 0;
        mask[(j - x * h) * w + x] = 1;
      }
    }
    p = end;
  }
  return mask;
}

/** Number of foreground pixels (`rleArea`). */
export function rleArea(rle: Rle): number {
  let area = 0;
  for (let i = 1; i < rle.counts.length; i += 2) area += rle.counts[i];
  return area;
}

/** Tight box [x, y, width, height] of the foreground, [0, 0, 0, 0] when empty (`rleToBbox`). */
export function rleToBbox(rle: Rle): [number, number, number, number] {
  const [h, w] = rle.size;
  const cnts = rle.counts;
  const m = cnts.length & ~1;
  if (m === 0) return [0, 0, 0, 0];
  let cc = 0;
  let xs = w;
  let ys = h;
  let xe = 0;
  let ye = 0;
  let xp = 0;
  for (let j = 0; j < m; j++) {
    cc += cnts[j];
    const t = cc - (j % 2);
    const y = t % h;
    const x = (t - y) / h;
    if (j % 2 === 0) xp = x;
    else if (xp < x) {
      // a 1-run that wraps into the next column touches every row
      ys = 0;
      ye = h - 1;
    }
    if (x < xs) xs = x;
    if (x > xe) xe = x;
    if (y < ys) ys = y;
    if (y > ye) ye = y;
  }
  return [xs, ys, xe - xs + 1, ye - ys + 1];
}

/**
 * Union (default) or intersection of masks of one size (`rleMerge`); masks of different sizes give an
 * empty 0x0 RLE, as in the COCO API.
 */
export function mergeRles(rles: readonly Rle[], intersect = false): Rle {
  if (rles.length === 0) return { size: [0, 0], counts: new Uint32Array(0) };
  let [h, w] = rles[0].size;
  if (rles.length === 1) return { size: [h, w], counts: rles[0].counts.slice() };
  let a = rles[0].counts;
  for (let r = 1; r < rles.length; r++) {
    const b = rles[r].counts;
    if (rles[r].size[0] !== h || rles[r].size[1] !== w) {
      h = 0;
      w = 0;
      a = new Uint32Array(0);
      break;
    }
    a = mergeTwo(a, b, intersect);
  }
  return { size: [h, w], counts: a };
}

function mergeTwo(A: Uint32Array, B: Uint32Array, intersect: boolean): Uint32Array {
  const out = new Uint32Array(A.length + B.length + 1);
  let m = 0;
  let ca = A[0];
  let cb = B[0];
  let v = 0;
  let va = 0;
  let vb = 0;
  let ia = 1;
  let ib = 1;
  let cc = 0;
  let ct = 1;
  while (ct > 0) {
    const c = Math.min(ca, cb);
    cc += c;
    ct = 0;
    ca -= c;
    if (!ca && ia < A.length) {
      ca = A[ia++];
      va = 1 - va;
    }
    ct += ca;
    cb -= c;
    if (!cb && ib < B.length) {
      cb = B[ib++];
      vb = 1 - vb;
    }
    ct += cb;
    const vp = v;
    v = intersect ? va & vb : va | vb;
    if (v !== vp || ct === 0) {
      out[m++] = cc;
      cc = 0;
    }
  }
  return out.slice(0, m);
}
