/**
 * The trainer's data-parallel replica (`--replicas`): the DeepMask model and the joint loss of one shard
 * of each batch, in a worker thread that `@deepmask/wasm-training/replicas` starts.
 */
import '@tensorflow/tfjs'; // gradients: tfjs-core's Node bundle has none
import { deepMaskLoss } from '@deepmask/loss';
import { createDeepMask, type DeepMaskConfig } from '@deepmask/model';
import { batchToTensors, type PatchBatch } from '@deepmask/sampling';
import type { ReplicaProgram } from '@deepmask/wasm-training/replicas';
import { routeMathRandom, SeededRandom } from './random.js';

export interface ReplicaInit {
  config: DeepMaskConfig;
}

/** A batch's samples for one replica, and what else its loss needs. */
export interface PatchShard extends Pick<PatchBatch, 'patches' | 'maskTargets' | 'labels' | 'heads'> {
  lambda?: number;
  /** Seeds `Math.random` for this step's dropout, drawn from the run's generator. */
  seed: number;
}

export const replicaProgram: ReplicaProgram<ReplicaInit, PatchShard> = {
  create({ config }) {
    const model = createDeepMask(config);
    return {
      variables: model.trainableVariables,
      loss(shard) {
        const inputs = batchToTensors({ ...shard, samples: [] });
        const restoreRandom = routeMathRandom(new SeededRandom(shard.seed));
        try {
          const { maskLogits, scoreLogits } = model.predictPatches(inputs.patches, { training: true });
          const loss = deepMaskLoss(
            { maskLogits, scoreLogits, maskTargets: inputs.maskTargets, labels: inputs.labels },
            { heads: shard.heads, lambda: shard.lambda },
          );
          return { total: loss.total, parts: { mask: loss.mask, score: loss.score } };
        } finally {
          restoreRandom();
        }
      },
    };
  },
};
