import * as tf from '@tensorflow/tfjs-core';

/**
 * sum_k w_k mean_i softplus(-s_k^i f_k^i) over the N rows k of `logits` f (every axis after the first is
 * averaged), with signs s of +1 / -1 in the shape of f and row weights w [N]: the form of both terms of
 * the DeepMask loss. Its gradient is given directly, d/df_k^i = -s_k^i sigmoid(-s_k^i f_k^i) w_k / P (P
 * values per row), three kernels where tf's chain rule through the softplus, the per-row mean (a tensor of
 * ones as large as f), the weighting and the batch mean ran about a dozen. No gradient flows to the signs
 * or the weights (targets and labels).
 */
export function weightedSoftplusMean(
  logits: tf.Tensor,
  signs: tf.Tensor,
  rowWeights: tf.Tensor1D,
): tf.Scalar {
  return tf.tidy(() => weightedTerm(logits, signs, rowWeights));
}

function weightedTerm(logits: tf.Tensor, signs: tf.Tensor, rowWeights: tf.Tensor1D): tf.Scalar {
  const [rows] = logits.shape;
  const perRow = logits.size / rows;
  const rowShape = [rows, ...logits.shape.slice(1).map(() => 1)];
  // Computed in the forward pass and saved, so that they outlive the tidy.
  const negatedSigns = tf.neg(signs);
  const slopes = tf.mul(negatedSigns, tf.reshape(tf.div(rowWeights, perRow), rowShape));
  const term = tf.customGrad((f, save) => {
    const z = tf.mul(negatedSigns, f as tf.Tensor);
    (save as tf.GradSaveFunc)([z, slopes]);
    const softplus = tf.softplus(z);
    const rowMeans = softplus.rank === 1 ? softplus : tf.mean(softplus, axesAfterFirst(softplus));
    const value = tf.sum(tf.mul(rowWeights, rowMeans));
    return {
      value,
      gradFunc: (dy, [savedZ, savedSlopes]) => tf.mul(tf.mul(tf.sigmoid(savedZ), savedSlopes), dy),
    };
  });
  return term(logits) as tf.Scalar;
}

function axesAfterFirst(x: tf.Tensor): number[] {
  return x.shape.slice(1).map((_, i) => i + 1);
}
