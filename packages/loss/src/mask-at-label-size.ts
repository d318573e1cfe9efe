import * as tf from '@tensorflow/tfjs-core';

const interpolationCache = new Map<string, Float32Array>();

/**
 * [L, oSz] weights of 1-D bilinear interpolation with half-pixel centres (both grids cover the whole
 * patch, so pixel centres align), clamped at the borders exactly as tf.image.resizeBilinear(.., false, true).
 */
export function interpolationMatrix(maskSizePx: number, labelSizePx: number): Float32Array {
  const key = `${maskSizePx}->${labelSizePx}`;
  const cached = interpolationCache.get(key);
  if (cached !== undefined) return cached;
  const weights = new Float32Array(labelSizePx * maskSizePx);
  const scale = maskSizePx / labelSizePx;
  for (let i = 0; i < labelSizePx; i++) {
    const source = (i + 0.5) * scale - 0.5;
    const low = Math.max(0, Math.floor(source));
    const high = Math.min(maskSizePx - 1, Math.ceil(source));
    const fraction = source - Math.floor(source);
    weights[i * maskSizePx + low] += 1 - fraction;
    weights[i * maskSizePx + high] += fraction;
  }
  interpolationCache.set(key, weights);
  return weights;
}

/**
 * Mask logits [N, oSz, oSz] resized bilinearly to the label size L, as R F R^T with R the [L, oSz]
 * interpolation matrix. Not tf.image.resizeBilinear: its gradient kernel (ResizeBilinearGrad, cpu and
 * wasm, tfjs 4.22) ignores halfPixelCenters, so it would train against the wrong geometry.
 */
export function maskLogitsAtLabelSize(maskLogits: tf.Tensor3D, labelSizePx: number): tf.Tensor3D {
  const [n, maskSizePx] = maskLogits.shape;
  if (labelSizePx === maskSizePx) return maskLogits;
  return tf.tidy(() => {
    const r = tf.tensor2d(interpolationMatrix(maskSizePx, labelSizePx), [labelSizePx, maskSizePx]);
    // [N oSz, oSz] x R^T -> [N, oSz, L]: columns resized
    const columns = tf.reshape(
      tf.matMul(tf.reshape(maskLogits, [n * maskSizePx, maskSizePx]), r, false, true),
      [n, maskSizePx, labelSizePx],
    );
    // [N L, oSz] x R^T -> [N, L (columns), L (rows)]: rows resized
    const rowsLast = tf.reshape(tf.transpose(columns, [0, 2, 1]), [n * labelSizePx, maskSizePx]);
    const resized = tf.reshape(tf.matMul(rowsLast, r, false, true), [n, labelSizePx, labelSizePx]);
    return tf.transpose(resized, [0, 2, 1]) as tf.Tensor3D;
  });
}
