import * as tf from '@tensorflow/tfjs-core';

/**
 * Mask logits [N, oSz, oSz] at the label size L: both grids cover the whole patch, so pixel centres
 * align (half-pixel centres, as the pyramid resizes), not corners.
 */
export function maskLogitsAtLabelSize(maskLogits: tf.Tensor3D, labelSizePx: number): tf.Tensor3D {
  const [n, maskSizePx] = maskLogits.shape;
  if (labelSizePx === maskSizePx) return maskLogits;
  return tf.tidy(() => {
    const asImages = tf.reshape(maskLogits, [n, maskSizePx, maskSizePx, 1]) as tf.Tensor4D;
    const resized = tf.image.resizeBilinear(asImages, [labelSizePx, labelSizePx], false, true);
    return tf.reshape(resized, [n, labelSizePx, labelSizePx]) as tf.Tensor3D;
  });
}
