import * as tf from '@tensorflow/tfjs-core';
import { batchInputSize, type ScaleGeometry } from './geometry.js';

/**
 * The network input of one batch of scales: `image` resized to each scale, padded by half a patch
 * and then, to the batch's common size (`batchInputSize`), on the bottom and right, all with `padColour`
 * (the model's mean pixel, which it normalises to zero: what its own convolutions pad with).
 * [H, W, 3] -> [B, height, width, 3] float32.
 */
export function scaleBatchInput(
  image: tf.Tensor3D,
  geometries: readonly ScaleGeometry[],
  padColour: readonly number[],
): tf.Tensor4D {
  const [height, width] = batchInputSize(geometries);
  return tf.tidy(() => {
    // Strips filled here and concatenated cost less (on wasm) than subtracting the colour, zero-padding
    // and adding it back, or than tf.tile.
    const strip = (h: number, w: number) => tf.tensor4d(filled(h * w, padColour), [1, h, w, 3]);
    const pixels = tf.cast(tf.expandDims(image, 0), 'float32') as tf.Tensor4D;
    const members = geometries.map((g) => {
      const resized =
        g.scaledHeight === image.shape[0] && g.scaledWidth === image.shape[1]
          ? pixels
          : tf.image.resizeBilinear(pixels, [g.scaledHeight, g.scaledWidth], false, true);
      const right = width - g.scaledWidth - g.borderPx;
      const bottom = height - g.scaledHeight - g.borderPx;
      const row = tf.concat([strip(g.scaledHeight, g.borderPx), resized, strip(g.scaledHeight, right)], 2);
      return tf.concat([strip(g.borderPx, width), row, strip(bottom, width)], 1);
    });
    return (members.length === 1 ? members[0] : tf.concat(members, 0)) as tf.Tensor4D;
  });
}

/** `pixels` RGB pixels of one colour. */
function filled(pixels: number, colour: readonly number[]): Float32Array {
  const data = new Float32Array(pixels * 3);
  for (let k = 0; k < data.length; k += 3) {
    data[k] = colour[0];
    data[k + 1] = colour[1];
    data[k + 2] = colour[2];
  }
  return data;
}
