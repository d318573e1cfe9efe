import * as tf from '@tensorflow/tfjs-core';
import { expect, it } from 'vitest';
import { type DenseCell, windowsTimes } from '../src/dense-cells.js';
import { createDeepMask, defaultConfig } from '../src/index.js';
import { describeEachBackend, maxAbsDiff, randomPixels } from './backends.js';

/** Rows `(batch, row, col)` of a dense map [B, h, w, E], as [K, E], by slicing each one out. */
function rowsAt(map: tf.Tensor4D, cells: readonly DenseCell[]): tf.Tensor2D {
  return tf.tidy(() =>
    tf.concat(
      cells.map(({ batch, row, col }) =>
        tf.reshape(tf.slice(map, [batch, row, col, 0], [1, 1, 1, -1]), [1, -1]),
      ),
    ),
  ) as tf.Tensor2D;
}

describeEachBackend('two-step dense form: scores first, embeddings of chosen cells', () => {
  for (const head of ['paper', 'shared'] as const) {
    it(`${head} heads: embedCells equals predictDense's embedding at the cells, scores equal`, () => {
      const config = defaultConfig('tiny', { head, scoreHiddenSizes: head === 'paper' ? [32, 48] : [48] });
      const model = createDeepMask(config, { seed: 9 });
      const f = config.inputSizePx / 16;
      // 2 images of 8 x 7 whole cells (plus a partial one): a 5 x 4 score grid each.
      const images = randomPixels([2, 16 * 8 + 5, 16 * 7 + 9, 3], 4);
      const dense = model.predictDense(images);
      const { scoreLogits, maskFeatures } = model.predictDenseScores(images);
      expect(scoreLogits.shape).toEqual([2, 5, 4]);
      expect(maxAbsDiff(scoreLogits, dense.scoreLogits)).toBeLessThan(1e-6);
      expect(maskFeatures.shape).toEqual(
        head === 'paper'
          ? [2, 5 + f - 1, 4 + f - 1, config.reducedChannels]
          : [2, 5, 4, config.embeddingSize],
      );
      const cells: DenseCell[] = [
        { batch: 1, row: 4, col: 3 },
        { batch: 0, row: 0, col: 0 },
        { batch: 0, row: 4, col: 0 },
        { batch: 1, row: 0, col: 3 },
        { batch: 1, row: 2, col: 1 },
        { batch: 0, row: 0, col: 0 },
      ];
      const embedded = model.embedCells(maskFeatures, cells);
      const expected = rowsAt(dense.maskEmbedding, cells);
      expect(embedded.shape).toEqual([cells.length, config.embeddingSize]);
      expect(maxAbsDiff(embedded, expected)).toBeLessThan(1e-4);
      const none = model.embedCells(maskFeatures, []);
      expect(none.shape).toEqual([0, config.embeddingSize]);
      tf.dispose([images, dense, scoreLogits, maskFeatures, embedded, expected, none]);
      model.dispose();
    });
  }

  it('unfolds windows in chunks of the byte budget with the same result as one chunk', () => {
    // [1, 6, 5, 3] features, 2 x 2 windows of 12 values (48 bytes): chunks of 1, 2 and all 7 windows, then of
    // 1 again (in the buffer kept from the call before, longer than a chunk).
    const x = tf.randomNormal([2, 6, 5, 3], 0, 1, 'float32', 2) as tf.Tensor4D;
    const kernel = tf.randomNormal([12, 4], 0, 1, 'float32', 3) as tf.Tensor2D;
    const cells: DenseCell[] = [0, 1, 2, 3, 4, 5, 6].map((k) => ({ batch: k % 2, row: k % 5, col: k % 4 }));
    const calls: number[] = [];
    const times = (windows: tf.Tensor2D) => {
      calls.push(windows.shape[0]);
      return tf.matMul(windows, kernel) as tf.Tensor2D;
    };
    const [one, two, all, oneAgain] = [48, 100, 1e6, 48].map((bytes) =>
      tf.tidy(() => windowsTimes(x, cells, 2, times, bytes)),
    );
    expect(calls).toEqual([1, 1, 1, 1, 1, 1, 1, 2, 2, 2, 1, 7, 1, 1, 1, 1, 1, 1, 1]);
    const conv = tf.conv2d(x, tf.reshape(kernel, [2, 2, 3, 4]) as tf.Tensor4D, 1, 'valid');
    const expected = rowsAt(conv, cells);
    for (const result of [one, two, all, oneAgain]) expect(maxAbsDiff(result, expected)).toBeLessThan(1e-5);
    tf.dispose([x, kernel, one, two, all, oneAgain, conv, expected]);
  });

  it('names the argument, the bad cell and the expected shape when inputs are wrong', () => {
    const model = createDeepMask(defaultConfig('tiny'));
    const images = randomPixels([1, 96, 80, 3]); // 6 x 5 cells: a 3 x 2 grid
    const { scoreLogits, maskFeatures } = model.predictDenseScores(images);
    expect(() => model.predictDenseScores(tf.zeros([1, 32, 32, 3]) as tf.Tensor4D)).toThrow(
      /predictDenseScores: images must be \[B, H, W, 3\] with H, W >= 64; got \[1,32,32,3\]/,
    );
    const bad = (cell: object) => () =>
      model.embedCells(maskFeatures, [{ batch: 0, row: 0, col: 0 }, cell as DenseCell]);
    const grid = /expected integers batch < 1, row < 3, col < 2/;
    expect(bad({ batch: 0, row: 3, col: 0 })).toThrow(
      /embedCells: cells\[1\] is \{"batch":0,"row":3,"col":0\}/,
    );
    expect(bad({ batch: 0, row: 3, col: 0 })).toThrow(grid);
    expect(bad({ batch: 1, row: 0, col: 0 })).toThrow(grid);
    expect(bad({ batch: 0, row: 0, col: -1 })).toThrow(grid);
    expect(bad({ batch: 0, row: 0.5, col: 0 })).toThrow(grid);
    expect(bad({ row: 0, col: 0 })).toThrow(/cells\[1\] is \{"row":0,"col":0\}/);
    const embedding = model.predictDense(images).maskEmbedding;
    expect(() => model.embedCells(embedding, [])).toThrow(
      'embedCells: maskFeatures must be [B, h, w, 32] with h, w >= 4 (from predictDenseScores); got [1,3,2,64]',
    );
    tf.dispose([images, scoreLogits, maskFeatures, embedding]);
    model.dispose();
  });

  it('leaks no tensor over repeated predictDenseScores and embedCells calls', () => {
    const model = createDeepMask(defaultConfig('tiny', { trunkWidths: [4, 8, 8, 8], reducedChannels: 8 }));
    const images = randomPixels([2, 96, 112, 3]);
    const round = () => {
      const { scoreLogits, maskFeatures } = model.predictDenseScores(images);
      const cells = [
        { batch: 1, row: 2, col: 3 },
        { batch: 0, row: 0, col: 1 },
      ];
      const masks = tf.tidy(() => model.decodeMasks(model.embedCells(maskFeatures, cells)));
      tf.dispose([scoreLogits, maskFeatures, masks]);
    };
    round();
    const before = tf.memory().numTensors;
    for (let i = 0; i < 3; i++) round();
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose(images);
    model.dispose();
  });
});
