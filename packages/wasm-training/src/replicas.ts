/**
 * Data-parallel training on both cores (Node): one worker thread per replica, each with the wasm backend
 * on one thread, averaging their gradients through shared memory. `@deepmask/wasm-training/replicas`.
 */
export { ReplicaAbortedError } from './replica-exchange.js';
export type { ReplicaGroupOptions } from './replica-group.js';
export { ReplicaGroup, startReplicas } from './replica-group.js';
export type {
  ReplicaLoss,
  ReplicaModel,
  ReplicaProgram,
  ReplicaSgdOptions,
  ReplicaState,
  ReplicaStepResult,
  ShardStep,
} from './replica-program.js';
