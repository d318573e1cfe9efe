import * as tf from '@tensorflow/tfjs-core';
import { type DeepMaskConfig, featureSizeOf } from './config.js';
import { type DenseCell, windowsTimes } from './dense-cells.js';
import { dropout } from './dropout.js';
import { fineStridePool } from './fine-stride.js';
import { type TrainableActivation, trainableFusedConv } from './fused-conv-training.js';
import { trainableFusedMatMul } from './fused-matmul-training.js';
import type { Shape3, SummaryRow } from './layers.js';
import { relu } from './relu.js';
import type { Part, WeightStore } from './weights.js';

export type PatchOutputs = {
  maskLogits: tf.Tensor3D;
  scoreLogits: tf.Tensor1D;
};

export type DenseOutputs = {
  maskEmbedding: tf.Tensor4D;
  scoreLogits: tf.Tensor3D;
};

/**
 * The dense scores and what the mask embedding of any cell needs: for 'paper' heads the reduced features
 * (1x1 conv + ReLU) `[B, h + F - 1, w + F - 1, r]`, for 'shared' heads the dense embedding `[B, h, w, E]`.
 */
export type DenseScores = {
  scoreLogits: tf.Tensor3D;
  maskFeatures: tf.Tensor4D;
};

/** The part of the network after the trunk, in both forms over the same variables. */
export interface Heads {
  rows: SummaryRow[];
  /** Channels of `maskFeatures`, and the side of the window of it that one cell's embedding reads. */
  maskFeatures: { channels: number; window: number };
  /** features [N, F, F, C] -> one mask and one score per patch. */
  patch(features: tf.Tensor4D, training: boolean): PatchOutputs;
  /** features [B, h, w, C] -> scores of the (h - F + 1) x (w - F + 1) windows and their mask features. */
  denseScores(features: tf.Tensor4D): DenseScores;
  /** maskFeatures of `denseScores` -> the embeddings [K, E] of `cells` (already checked). */
  embedCells(maskFeatures: tf.Tensor4D, cells: readonly DenseCell[]): tf.Tensor2D;
  /** features [B, h, w, C] -> embeddings and scores of the (h - F + 1) x (w - F + 1) windows. */
  dense(features: tf.Tensor4D): DenseOutputs;
  /** embeddings [K, E] -> mask logits [K, oSz, oSz]. */
  decode(embedding: tf.Tensor2D): tf.Tensor3D;
}

interface Linear {
  kernel: tf.Variable;
  bias: tf.Variable;
}

/** A linear layer whose kernel is stored as [k, k, in, out], so it is also a k x k valid conv. */
function addLinear(
  store: WeightStore,
  name: string,
  part: Part,
  kernelShape: number[],
  rows: SummaryRow[],
): Linear {
  const out = kernelShape[kernelShape.length - 1];
  const kernel = store.add(`${name}/kernel`, part, kernelShape, 'linear');
  const bias = store.add(`${name}/bias`, part, [out], 'linear');
  const kind = kernelShape.length === 4 ? `linear ${kernelShape.slice(0, 3).join('x')}` : 'linear';
  rows.push({ name, kind, part, outputShape: [out], params: kernel.size + bias.size, frozenValues: 0 });
  return { kernel, bias };
}

/** [M, ...] -> [M, out] through a linear layer stored in either kernel form, then a ReLU where asked. */
function applyLinear(x: tf.Tensor, layer: Linear, activation: TrainableActivation = 'linear'): tf.Tensor2D {
  return trainableFusedMatMul(x, layer.kernel, layer.bias as tf.Tensor1D, activation);
}

/** The F x F linear as a dense valid conv: [B, h, w, C] -> [B, h - F + 1, w - F + 1, out]. */
function applyLinearDense(x: tf.Tensor4D, layer: Linear): tf.Tensor4D {
  return tf.fused.conv2d({
    x,
    filter: layer.kernel as tf.Tensor4D,
    strides: 1,
    pad: 'valid',
    bias: layer.bias,
  });
}

/** The 1x1 conv (with ReLU) and the F x F linear that give every window its embedding. */
function addEmbedding(
  store: WeightStore,
  prefix: string,
  part: Part,
  input: Shape3,
  config: DeepMaskConfig,
  rows: SummaryRow[],
) {
  const [f, , c] = input;
  const r = config.reducedChannels;
  const conv = {
    kernel: store.add(`${prefix}/conv1x1/kernel`, part, [1, 1, c, r], 'he'),
    bias: store.add(`${prefix}/conv1x1/bias`, part, [r], 'zeros'),
  };
  rows.push({
    name: `${prefix}/conv1x1`,
    kind: 'conv 1x1/1',
    part,
    outputShape: [f, f, r],
    params: conv.kernel.size + conv.bias.size,
    frozenValues: 0,
  });
  const linear = addLinear(
    store,
    `${prefix}/linear${prefix === 'mask' ? 1 : ''}`,
    part,
    [f, f, r, config.embeddingSize],
    rows,
  );
  const reduce = (x: tf.Tensor4D) =>
    trainableFusedConv(x, conv.kernel as tf.Tensor4D, conv.bias, 1, 'valid', 'relu');
  return {
    patch: (x: tf.Tensor4D): tf.Tensor2D => applyLinear(reduce(x), linear),
    /** [B, h, w, C] -> the reduced features [B, h, w, r] that `dense` and `atCells` read. */
    reduce,
    dense: (reduced: tf.Tensor4D): tf.Tensor4D => applyLinearDense(reduced, linear),
    atCells: (reduced: tf.Tensor4D, cells: readonly DenseCell[]): tf.Tensor2D =>
      windowsTimes(reduced, cells, f, (windows) => applyLinear(windows, linear)),
  };
}

/** Linears separated by ReLU (fused into the linear before it), each preceded by dropout in training. */
function mlp(layers: Linear[], dropoutRate: number, reluFirst: boolean) {
  return (x: tf.Tensor2D, training: boolean): tf.Tensor2D =>
    layers.reduce(
      (y, layer, i) => {
        const dropped = training && dropoutRate > 0 ? dropout(y, dropoutRate) : y;
        return applyLinear(dropped, layer, i < layers.length - 1 ? 'relu' : 'linear');
      },
      reluFirst ? relu(x) : x,
    );
}

function scoreLinears(
  store: WeightStore,
  inSize: number,
  hidden: number[],
  first: number,
  rows: SummaryRow[],
): Linear[] {
  const sizes = [inSize, ...hidden, 1];
  const layers: Linear[] = [];
  for (let i = 0; i + 1 < sizes.length; i++) {
    layers.push(addLinear(store, `score/linear${first + i}`, 'score', [sizes[i], sizes[i + 1]], rows));
  }
  return layers;
}

function maskDecoder(store: WeightStore, config: DeepMaskConfig, rows: SummaryRow[]) {
  const o = config.maskSizePx;
  const name = config.head === 'paper' ? 'mask/linear2' : 'mask/linear';
  const layer = addLinear(store, name, 'mask', [config.embeddingSize, o * o], rows);
  rows[rows.length - 1].outputShape = [o, o];
  return (embedding: tf.Tensor2D): tf.Tensor3D =>
    tf.reshape(applyLinear(embedding, layer), [embedding.shape[0], o, o]);
}

/** The paper's heads: mask = 1x1 conv, F x F linear, linear; score = 2x2 max-pool, linears. */
function paperHeads(store: WeightStore, config: DeepMaskConfig, trunkOut: Shape3): Heads {
  const rows: SummaryRow[] = [];
  const f = featureSizeOf(config);
  const c = trunkOut[2];
  const embedding = addEmbedding(store, 'mask', 'mask', trunkOut, config, rows);
  const decode = maskDecoder(store, config, rows);
  const half = f / 2;
  rows.push({
    name: 'score/maxpool',
    kind: 'max-pool 2x2/2',
    part: 'score',
    outputShape: [half, half, c],
    params: 0,
    frozenValues: 0,
  });
  const [hidden0, ...hiddenRest] = config.scoreHiddenSizes;
  const first = addLinear(store, 'score/linear1', 'score', [half, half, c, hidden0], rows);
  const rest = mlp(scoreLinears(store, hidden0, hiddenRest, 2, rows), config.dropoutRate, true);
  const denseScores = (features: tf.Tensor4D): DenseScores => {
    const [, height, width] = features.shape;
    const scoreLogits = fineStridePool(features, height - f + 1, width - f + 1, (pooled) => {
      const hidden = applyLinearDense(pooled, first); // [B', h', w', hidden0]
      const [pooledBatch, h, w, size] = hidden.shape;
      return tf.reshape(rest(tf.reshape(hidden, [-1, size]), false), [pooledBatch, h, w]);
    });
    return { scoreLogits, maskFeatures: embedding.reduce(features) };
  };
  return {
    rows,
    maskFeatures: { channels: config.reducedChannels, window: f },
    patch: (features, training) => ({
      maskLogits: decode(embedding.patch(features)),
      // [N, F, F, C] -> [N, F/2, F/2, C] -> [N, hidden0] -> [N, 1]
      scoreLogits: tf.reshape(rest(applyLinear(tf.maxPool(features, 2, 2, 'valid'), first), training), [-1]),
    }),
    denseScores,
    embedCells: embedding.atCells,
    dense: (features) => {
      const { scoreLogits, maskFeatures } = denseScores(features);
      return { maskEmbedding: embedding.dense(maskFeatures), scoreLogits };
    },
    decode,
  };
}

/** The official code's heads: the trunk's shared embedding feeds one mask linear and a small score MLP. */
function sharedHeads(store: WeightStore, config: DeepMaskConfig, trunkOut: Shape3): Heads {
  const rows: SummaryRow[] = [];
  const embedding = addEmbedding(store, 'trunk', 'trunk', trunkOut, config, rows);
  const decode = maskDecoder(store, config, rows);
  const score = mlp(
    scoreLinears(store, config.embeddingSize, config.scoreHiddenSizes, 1, rows),
    config.dropoutRate,
    false,
  );
  const dense = (features: tf.Tensor4D): DenseOutputs => {
    const maskEmbedding = embedding.dense(embedding.reduce(features)); // [B, h, w, E]
    const [batch, h, w, e] = maskEmbedding.shape;
    const scoreLogits = tf.reshape(score(tf.reshape(maskEmbedding, [-1, e]), false), [
      batch,
      h,
      w,
    ]) as tf.Tensor3D;
    return { maskEmbedding, scoreLogits };
  };
  return {
    rows,
    // The score MLP reads the embedding of every cell, so it is dense anyway: it is the mask features.
    maskFeatures: { channels: config.embeddingSize, window: 1 },
    patch: (features, training) => {
      const shared = embedding.patch(features); // [N, E]
      return { maskLogits: decode(shared), scoreLogits: tf.reshape(score(shared, training), [-1]) };
    },
    denseScores: (features) => {
      const { maskEmbedding, scoreLogits } = dense(features);
      return { scoreLogits, maskFeatures: maskEmbedding };
    },
    embedCells: (maskEmbedding, cells) => {
      const [, h, w, e] = maskEmbedding.shape;
      const rowsAt = Int32Array.from(cells, (c) => (c.batch * h + c.row) * w + c.col);
      return tf.gather(tf.reshape(maskEmbedding, [-1, e]), tf.tensor1d(rowsAt, 'int32')) as tf.Tensor2D;
    },
    dense,
    decode,
  };
}

export function buildHeads(store: WeightStore, config: DeepMaskConfig, trunkOut: Shape3): Heads {
  return config.head === 'paper' ? paperHeads(store, config, trunkOut) : sharedHeads(store, config, trunkOut);
}
