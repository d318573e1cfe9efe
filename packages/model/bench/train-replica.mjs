// The bench's data-parallel replica: the model of a bench case and the joint loss of its shard of the
// training batch. JavaScript, as replicas load their program in worker threads (Node 20 runs no
// TypeScript there); '@deepmask/model' resolves to this package's dist.
import '@tensorflow/tfjs';
import { deepMaskLoss } from '@deepmask/loss';
import { createDeepMask } from '@deepmask/model';
import * as tf from '@tensorflow/tfjs-core';

export const replicaProgram = {
  create({ config }) {
    const model = createDeepMask(config);
    const { inputSizePx: size, maskSizePx: o } = config;
    return {
      variables: model.trainableVariables,
      loss({ patches, maskTargets, labels }) {
        const n = labels.length;
        const { maskLogits, scoreLogits } = model.predictPatches(tf.tensor4d(patches, [n, size, size, 3]), {
          training: true,
        });
        const targets = { maskTargets: tf.tensor3d(maskTargets, [n, o, o]), labels: tf.tensor1d(labels) };
        return { total: deepMaskLoss({ maskLogits, scoreLogits, ...targets }).total };
      },
    };
  },
};
