import type * as tf from '@tensorflow/tfjs-core';

/**
 * What a data-parallel replica trains: a module that `startReplicas` loads in each worker thread exports
 * one of these as `replicaProgram`. `create` builds the replica's model from the `init` value given to
 * `startReplicas` (structured-cloned); its weights are then set by `ReplicaGroup.writeState`. The worker
 * has the wasm backend (one thread) and our kernels; the module registers the gradients its model needs
 * (in Node, `import '@tensorflow/tfjs'`).
 */
export interface ReplicaProgram<Init = unknown, Shard = unknown> {
  create(init: Init): Promise<ReplicaModel<Shard>> | ReplicaModel<Shard>;
}

export interface ReplicaModel<Shard> {
  /** The trained variables, in the same order in every replica (and as the caller's state lists them). */
  variables: tf.Variable[];
  /**
   * The loss of one shard (a mean over its samples, so that shards weighted by their sizes average to the
   * batch's loss), with named parts to report; called inside `tf.variableGrads`. Randomness that a step
   * must repeat exactly (dropout) is best seeded by a value in the shard.
   */
  loss(shard: Shard): ReplicaLoss;
}

export interface ReplicaLoss {
  total: tf.Scalar;
  parts?: Record<string, tf.Scalar>;
}

/** Momentum SGD as `sgdMomentumStep` applies it, minus the learning rate that each step gives. */
export interface ReplicaSgdOptions {
  momentum: number;
  weightDecay: number;
}

/** Values of the variables and their momentum buffers, in variable order. */
export interface ReplicaState {
  weights: Float32Array[];
  velocities: Float32Array[];
}

export interface ShardStep<Shard> {
  shard: Shard;
  /** The shard's share of the batch (its samples / the batch's): its gradients' weight in the average. */
  weight: number;
  learningRate: number;
}

export interface ReplicaStepResult {
  /** `total` and the named parts of this replica's shard loss. */
  losses: Record<string, number>;
  /** False when some replica's loss was not finite: then no replica changed its weights. */
  applied: boolean;
  /** Tensors alive in the replica after the step (`tf.memory().numTensors`), to watch for leaks. */
  tensors: number;
}

export type ToReplica =
  | {
      type: 'init';
      programUrl: string;
      init: unknown;
      rank: number;
      replicas: number;
      sgd: ReplicaSgdOptions;
    }
  | { type: 'connect'; exchange: SharedArrayBuffer }
  | { type: 'write-state'; state: ReplicaState }
  | { type: 'read-state' }
  | ({ type: 'step' } & ShardStep<unknown>);

export type FromReplica =
  | { type: 'ready'; shapes: number[][] }
  | { type: 'state'; state: ReplicaState }
  | { type: 'connected' }
  | { type: 'done' }
  | ({ type: 'stepped' } & ReplicaStepResult)
  | { type: 'failed'; message: string; aborted: boolean };
