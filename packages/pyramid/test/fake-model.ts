import * as tf from '@tensorflow/tfjs-core';
import type { DenseCell, DenseMaskModel } from '../src/index.js';

/** Rows `(batch, row, col)` of a dense map [B, h, w, E]: [K, E]. */
export function cellRows(map: tf.Tensor4D, cells: readonly DenseCell[]): tf.Tensor2D {
  const [, h, w, e] = map.shape;
  const rows = Int32Array.from(cells, (c) => (c.batch * h + c.row) * w + c.col);
  return tf.tidy(() => tf.gather(tf.reshape(map, [-1, e]), tf.tensor1d(rows, 'int32')));
}

/**
 * A test double with outputs known by hand: each cell's embedding is the mean red value of its patch
 * (E = 1; the mask features are these embeddings), its score logit is `(mean - 128) / 16`, and its mask is
 * constant, `(mean - 32) / 8`, over the whole patch. `calls` records the batch sizes of `predictDenseScores`,
 * the cell counts of `embedCells` and the batch sizes of `decodeMasks`.
 */
export function fakeModel(inputSizePx = 32, maskSizePx = 4) {
  const calls = { dense: [] as number[], embed: [] as number[], decode: [] as number[] };
  const model: DenseMaskModel = {
    config: { inputSizePx, maskSizePx, pixelMean: [0, 0, 0] },
    predictDenseScores(images) {
      calls.dense.push(images.shape[0]);
      return tf.tidy(() => {
        const red = tf.slice(images, [0, 0, 0, 0], [-1, -1, -1, 1]);
        const mean = tf.avgPool(red, inputSizePx, 16, 'valid') as tf.Tensor4D; // [B, h, w, 1]
        return {
          maskFeatures: mean,
          scoreLogits: tf.squeeze(tf.div(tf.sub(mean, 128), 16), [3]) as tf.Tensor3D,
        };
      });
    },
    embedCells(maskFeatures, cells) {
      calls.embed.push(cells.length);
      return cellRows(maskFeatures, cells);
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
