import * as tf from '@tensorflow/tfjs-core';

/**
 * OverFeat's fine-stride max pooling: a 2x2/2 max-pool followed by `head` keeps stride 16 when it is
 * applied at each of the 4 pixel offsets of the feature map and the results are interleaved.
 * `head` maps pooled features [B', h', w', C] to a grid [B', h'', w''] (its own valid window included,
 * each cell from its window alone); the result has `rows` x `cols` cells, cell (i, j) coming from offset
 * (i % 2, j % 2). The head runs once, on the 4 offsets' pooled maps stacked along the batch (the smaller
 * ones zero-padded at the bottom and right, whose extra cells are dropped): one convolution with 4x the
 * rows instead of four small ones.
 */
export function fineStridePool(
  features: tf.Tensor4D,
  rows: number,
  cols: number,
  head: (pooled: tf.Tensor4D) => tf.Tensor3D,
): tf.Tensor3D {
  return tf.tidy((): tf.Tensor3D => {
    const [batch, height, width, channels] = features.shape;
    const halfRows = Math.ceil(rows / 2);
    const halfCols = Math.ceil(cols / 2);
    const offsets = [0, 1].flatMap((dy) => [0, 1].map((dx) => [dy, dx] as const));
    const [pooledRows, pooledCols] = [Math.floor(height / 2), Math.floor(width / 2)];
    const pooled = offsets.map(([dy, dx]) => {
      const shifted = tf.slice(features, [0, dy, dx, 0], [batch, height - dy, width - dx, channels]);
      const offsetPooled = tf.maxPool(shifted, 2, 2, 'valid');
      return tf.pad(offsetPooled, [
        [0, 0],
        [0, pooledRows - offsetPooled.shape[1]],
        [0, pooledCols - offsetPooled.shape[2]],
        [0, 0],
      ]);
    });
    const cells = head(tf.concat(pooled, 0)); // [4B, R, C'], offset k at k B .. (k + 1) B - 1
    const grid = (k: number): tf.Tensor3D => {
      const [dy, dx] = offsets[k];
      const offsetRows = Math.floor((rows - dy + 1) / 2);
      const offsetCols = Math.floor((cols - dx + 1) / 2);
      if (offsetRows === 0 || offsetCols === 0) return tf.zeros([batch, halfRows, halfCols]);
      const own = tf.slice(cells, [k * batch, 0, 0], [batch, offsetRows, offsetCols]);
      return tf.pad<tf.Tensor3D>(own, [
        [0, 0],
        [0, halfRows - offsetRows],
        [0, halfCols - offsetCols],
      ]);
    };
    // [B, a, b] x 2 -> [B, a, b, 2] -> [B, a, 2b]: columns j = 2b' + dx
    const interleaveCols = (dy: number): tf.Tensor3D =>
      tf.reshape(tf.stack([grid(2 * dy), grid(2 * dy + 1)], 3), [batch, halfRows, 2 * halfCols]);
    // [B, a, 2b] x 2 -> [B, a, 2, 2b] -> [B, 2a, 2b]: rows i = 2a' + dy
    const full = tf.reshape(tf.stack([interleaveCols(0), interleaveCols(1)], 2), [
      batch,
      2 * halfRows,
      2 * halfCols,
    ]);
    return tf.slice(full, [0, 0, 0], [batch, rows, cols]) as tf.Tensor3D;
  });
}
