import * as tf from '@tensorflow/tfjs-core';
import type { DenseMaskModel } from '../src/index.js';

/**
 * A test double with outputs known by hand: each cell's embedding is the mean red value of its patch
 * (E = 1), its score logit is `(mean - 128) / 16`, and its mask is constant, `(mean - 32) / 8`, over
 * the whole patch. `calls` records the batch sizes of `predictDense` and `decodeMasks`.
 */
export function fakeModel(inputSizePx = 32, maskSizePx = 4) {
  const calls = { dense: [] as number[], decode: [] as number[] };
  const model: DenseMaskModel = {
    config: { inputSizePx, maskSizePx, pixelMean: [0, 0, 0] },
    predictDense(images) {
      calls.dense.push(images.shape[0]);
      return tf.tidy(() => {
        const red = tf.slice(images, [0, 0, 0, 0], [-1, -1, -1, 1]);
        const mean = tf.avgPool(red, inputSizePx, 16, 'valid') as tf.Tensor4D; // [B, h, w, 1]
        return {
          maskEmbedding: mean,
          scoreLogits: tf.squeeze(tf.div(tf.sub(mean, 128), 16), [3]) as tf.Tensor3D,
        };
      });
    },
    decodeMasks(embedding) {
      calls.decode.push(embedding.shape[0]);
      return tf.tidy(() => {
        const logits = tf.div(tf.sub(embedding, 32), 8); // [K, 1]
        return tf.tile(tf.reshape(logits, [-1, 1, 1]), [1, maskSizePx, maskSizePx]) as tf.Tensor3D;
      });
    },
  };
  return { model, calls };
}

/** `[H, W, 3]` int32 zeros with value 255 over the given boxes `[x, y, w, h]`. */
export function imageWithSquares(height: number, width: number, boxes: [number, number, number, number][]) {
  const data = new Int32Array(height * width * 3);
  for (const [x0, y0, w, h] of boxes) {
    for (let y = y0; y < y0 + h; y++) data.fill(255, (y * width + x0) * 3, (y * width + x0 + w) * 3);
  }
  return tf.tensor3d(data, [height, width, 3], 'int32');
}
