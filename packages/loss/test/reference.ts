/** Float64 reference of the DeepMask loss, written from the paper's formula, independent of tfjs. */
export function softplus64(z: number): number {
  return Math.max(z, 0) + Math.log1p(Math.exp(-Math.abs(z)));
}

/** Bilinear resize of one square map with half-pixel centres, as tf.image.resizeBilinear(.., false, true). */
export function resize64(map: number[], size: number, to: number): number[] {
  const out: number[] = [];
  const scale = size / to;
  const axis = (i: number): [number, number, number] => {
    const source = (i + 0.5) * scale - 0.5;
    const low = Math.max(0, Math.floor(source));
    const high = Math.min(size - 1, Math.ceil(source));
    return [low, high, source - Math.floor(source)];
  };
  for (let r = 0; r < to; r++) {
    const [r0, r1, fr] = axis(r);
    for (let c = 0; c < to; c++) {
      const [c0, c1, fc] = axis(c);
      const top = map[r0 * size + c0] + (map[r0 * size + c1] - map[r0 * size + c0]) * fc;
      const bottom = map[r1 * size + c0] + (map[r1 * size + c1] - map[r1 * size + c0]) * fc;
      out.push(top + (bottom - top) * fr);
    }
  }
  return out;
}

export interface Batch64 {
  maskLogits: number[]; // N * oSz * oSz
  maskSizePx: number;
  scoreLogits: number[]; // N
  maskTargets: number[]; // N * L * L
  labelSizePx: number;
  labels: number[]; // N
}

export function loss64(b: Batch64, lambda: number): { total: number; mask: number; score: number } {
  const n = b.labels.length;
  const o2 = b.maskSizePx * b.maskSizePx;
  const l2 = b.labelSizePx * b.labelSizePx;
  let mask = 0;
  let score = 0;
  for (let k = 0; k < n; k++) {
    const logits = resize64(b.maskLogits.slice(k * o2, (k + 1) * o2), b.maskSizePx, b.labelSizePx);
    let perPixel = 0;
    for (let p = 0; p < l2; p++) perPixel += softplus64(-b.maskTargets[k * l2 + p] * logits[p]);
    mask += ((1 + b.labels[k]) / 2) * (perPixel / l2);
    score += softplus64(-b.labels[k] * b.scoreLogits[k]);
  }
  return { mask: mask / n, score: score / n, total: mask / n + (lambda * score) / n };
}
