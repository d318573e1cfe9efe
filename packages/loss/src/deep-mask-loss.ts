import * as tf from '@tensorflow/tfjs-core';
import { maskLogitsAtLabelSize } from './mask-at-label-size.js';
import { expectMaskShapes, expectRank, expectSameBatch } from './validate.js';
import { weightedSoftplusMean } from './weighted-softplus.js';

/** Which terms a batch trains: the paper's joint loss, or one head as in the official code. */
export type LossHeads = 'joint' | 'mask' | 'score';

export interface LossInputs {
  /** [N, oSz, oSz] mask logits f_segm (covering the whole patch). Needed unless heads = 'score'. */
  maskLogits?: tf.Tensor3D;
  /** [N] score logits f_score. Needed unless heads = 'mask'. */
  scoreLogits?: tf.Tensor1D;
  /** [N, L, L] mask targets m_k^ij of +1 / -1 at label size L >= oSz (covering the whole patch). */
  maskTargets?: tf.Tensor3D;
  /** [N] labels y_k of +1 / -1. */
  labels: tf.Tensor1D;
}

export interface LossOptions {
  /** Weight of the score term; the paper's 1/32 by default. */
  lambda?: number;
  heads?: LossHeads;
}

export interface DeepMaskLoss {
  /** What to minimise: mask + lambda * score for 'joint', mask for 'mask', lambda * score for 'score'. */
  total: tf.Scalar;
  /** (1/N) sum_k (1 + y_k)/2 * (1/L^2) sum_ij log(1 + exp(-m_k^ij f_segm^ij)); 0 for 'score' batches. */
  mask: tf.Scalar;
  /** (1/N) sum_k log(1 + exp(-y_k f_score)), without lambda; 0 for 'mask' batches. */
  score: tf.Scalar;
}

const FN = 'deepMaskLoss';

/**
 * The joint loss of DeepMask (Pinheiro et al. 2015, eq. 1), divided by the batch size N:
 *   total = (1/N) sum_k [ (1+y_k)/(2 w h) sum_ij log(1+exp(-m_k^ij f_segm^ij)) + lambda log(1+exp(-y_k f_score)) ]
 * with w = h = L (mask logits resized bilinearly to the label size). Negatives contribute no mask term
 * but still count in N. The official code's one-head batches are heads = 'mask' (mask term only) and
 * heads = 'score' (lambda * score term only); it sums the mask term over the batch instead of averaging,
 * which is this loss times N (so its learning rate 1e-3 corresponds to 1e-3 * N here).
 * log(1 + exp(z)) is tf.softplus, exact for |z| in the thousands and with gradient sigmoid(z).
 */
export function deepMaskLoss(inputs: LossInputs, options: LossOptions = {}): DeepMaskLoss {
  const { lambda = 1 / 32, heads = 'joint' } = options;
  if (heads !== 'joint' && heads !== 'mask' && heads !== 'score') {
    throw new Error(`${FN}: options.heads must be 'joint', 'mask' or 'score', got '${String(heads)}'`);
  }
  if (!(lambda >= 0 && Number.isFinite(lambda))) {
    throw new Error(`${FN}: options.lambda must be a finite number >= 0, got ${lambda}`);
  }
  const { maskLogits, scoreLogits, maskTargets, labels } = inputs;
  const usesMask = heads !== 'score';
  const usesScore = heads !== 'mask';
  expectRank(FN, 'labels', labels, 1, '[N]');
  if (usesMask) {
    if (maskLogits === undefined || maskTargets === undefined) {
      throw new Error(`${FN}: heads '${heads}' needs maskLogits [N, oSz, oSz] and maskTargets [N, L, L]`);
    }
    expectMaskShapes(FN, maskLogits, maskTargets);
  }
  if (usesScore) {
    if (scoreLogits === undefined) throw new Error(`${FN}: heads '${heads}' needs scoreLogits [N]`);
    expectRank(FN, 'scoreLogits', scoreLogits, 1, '[N]');
  }
  const batchSize = expectSameBatch(FN, {
    labels,
    ...(usesMask ? { maskLogits, maskTargets } : {}),
    ...(usesScore ? { scoreLogits } : {}),
  });
  if (batchSize === 0) throw new Error(`${FN}: the batch is empty (labels has shape [0])`);

  return tf.tidy(() => {
    const mask = usesMask
      ? maskTerm(maskLogits as tf.Tensor3D, maskTargets as tf.Tensor3D, labels)
      : tf.scalar(0);
    const score = usesScore ? scoreTerm(scoreLogits as tf.Tensor1D, labels) : tf.scalar(0);
    const weightedScore = tf.mul(score, lambda);
    const total =
      heads === 'joint' ? tf.add(mask, weightedScore) : heads === 'mask' ? tf.clone(mask) : weightedScore;
    return { total: total as tf.Scalar, mask: mask as tf.Scalar, score: score as tf.Scalar };
  });
}

// (1/N) sum_k (1+y_k)/2 * mean_ij softplus(-m_k^ij f^ij)
function maskTerm(maskLogits: tf.Tensor3D, maskTargets: tf.Tensor3D, labels: tf.Tensor1D): tf.Tensor {
  const logits = maskLogitsAtLabelSize(maskLogits, maskTargets.shape[1]); // [N, L, L]
  const positiveWeights = tf.div(tf.add(asFloat(labels), 1), 2 * labels.shape[0]);
  return weightedSoftplusMean(logits, asFloat(maskTargets), positiveWeights as tf.Tensor1D);
}

// (1/N) sum_k softplus(-y_k f_score)
function scoreTerm(scoreLogits: tf.Tensor1D, labels: tf.Tensor1D): tf.Tensor {
  const [n] = labels.shape;
  return weightedSoftplusMean(scoreLogits, asFloat(labels), tf.fill([n], 1 / n) as tf.Tensor1D);
}

/** Labels and targets as float32, without a copy when they are (a cast to the same dtype copies on wasm). */
function asFloat<T extends tf.Tensor>(values: T): T {
  return values.dtype === 'float32' ? values : tf.cast(values, 'float32');
}
