import * as tf from '@tensorflow/tfjs-core';
import { maskLogitsAtLabelSize } from './mask-at-label-size.js';
import { expectMaskShapes, expectRank, expectSameBatch } from './validate.js';

export interface MetricInputs {
  /** [N, oSz, oSz] mask logits; without them (or without positives) maskIoU is NaN. */
  maskLogits?: tf.Tensor3D;
  /** [N] score logits; without them scoreAccuracy is NaN. */
  scoreLogits?: tf.Tensor1D;
  /** [N, L, L] mask targets of +1 / -1, L >= oSz. Needed with maskLogits. */
  maskTargets?: tf.Tensor3D;
  /** [N] labels of +1 / -1. */
  labels: tf.Tensor1D;
}

export interface TrainingMetrics {
  /** Mean over positives (y_k = +1) of the IoU of the mask (logit > 0, i.e. probability > 0.5, at label size) with its target. */
  maskIoU: number;
  /** Fraction of patches whose score logit has the sign of its label (logit > 0 counts as +1). */
  scoreAccuracy: number;
}

const FN = 'trainingMetrics';

/** The official code's training meters: mask IoU on positives and score accuracy (reads the values back). */
export function trainingMetrics(inputs: MetricInputs): TrainingMetrics {
  const { maskLogits, scoreLogits, maskTargets, labels } = inputs;
  expectRank(FN, 'labels', labels, 1, '[N]');
  if ((maskLogits === undefined) !== (maskTargets === undefined)) {
    throw new Error(`${FN}: maskLogits and maskTargets must be given together`);
  }
  if (maskLogits !== undefined && maskTargets !== undefined) expectMaskShapes(FN, maskLogits, maskTargets);
  if (scoreLogits !== undefined) expectRank(FN, 'scoreLogits', scoreLogits, 1, '[N]');
  expectSameBatch(FN, { labels, maskLogits, maskTargets, scoreLogits });

  const positive = tf.tidy(() => tf.greater(labels, 0)) as tf.Tensor1D;
  const maskIoU =
    maskLogits !== undefined && maskTargets !== undefined
      ? meanIoUOfPositives(maskLogits, maskTargets, positive)
      : Number.NaN;
  const scoreAccuracy =
    scoreLogits !== undefined
      ? tf.tidy(
          () => tf.mean(tf.cast(tf.equal(tf.greater(scoreLogits, 0), positive), 'float32')).dataSync()[0],
        )
      : Number.NaN;
  positive.dispose();
  return { maskIoU, scoreAccuracy };
}

function meanIoUOfPositives(
  maskLogits: tf.Tensor3D,
  maskTargets: tf.Tensor3D,
  positive: tf.Tensor1D,
): number {
  const [iou, isPositive] = tf.tidy(() => {
    const predicted = tf.greater(maskLogitsAtLabelSize(maskLogits, maskTargets.shape[1]), 0);
    const target = tf.greater(maskTargets, 0);
    const intersection = tf.sum(tf.cast(tf.logicalAnd(predicted, target), 'float32'), [1, 2]);
    const union = tf.sum(tf.cast(tf.logicalOr(predicted, target), 'float32'), [1, 2]);
    // Both masks empty: a perfect match.
    const perPatch = tf.where(
      tf.greater(union, 0),
      tf.div(intersection, tf.maximum(union, 1)),
      tf.onesLike(union),
    );
    return [perPatch.dataSync(), positive.dataSync()];
  });
  let sum = 0;
  let count = 0;
  for (let k = 0; k < iou.length; k++) {
    if (isPositive[k]) {
      sum += iou[k];
      count++;
    }
  }
  return count === 0 ? Number.NaN : sum / count;
}
