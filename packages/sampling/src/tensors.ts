import * as tf from '@tensorflow/tfjs-core';
import type { PatchBatch } from './types.js';

export interface PatchBatchTensors {
  /** [N, iSz, iSz, 3] raw pixels. */
  patches: tf.Tensor4D;
  /** [N, L, L] +-1. */
  maskTargets: tf.Tensor3D;
  /** [N] +-1. */
  labels: tf.Tensor1D;
}

/** The batch's arrays as tensors on the current backend (the caller disposes them). */
export function batchToTensors(batch: PatchBatch): PatchBatchTensors {
  const n = batch.labels.length;
  const inputSizePx = Math.round(Math.sqrt(batch.patches.length / (3 * n)));
  const labelSizePx = Math.round(Math.sqrt(batch.maskTargets.length / n));
  if (
    n === 0 ||
    inputSizePx ** 2 * 3 * n !== batch.patches.length ||
    labelSizePx ** 2 * n !== batch.maskTargets.length
  ) {
    throw new Error(
      `batchToTensors: ${n} labels, ${batch.patches.length} patch values and ${batch.maskTargets.length} ` +
        'mask values are not N, N * iSz * iSz * 3 and N * L * L',
    );
  }
  return {
    patches: tf.tensor4d(batch.patches, [n, inputSizePx, inputSizePx, 3]),
    maskTargets: tf.tensor3d(batch.maskTargets, [n, labelSizePx, labelSizePx]),
    labels: tf.tensor1d(batch.labels),
  };
}
