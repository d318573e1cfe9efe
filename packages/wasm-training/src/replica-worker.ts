/**
 * The worker thread of one data-parallel replica (started by `startReplicas`): the wasm backend on one
 * thread, the program's model, its momentum buffers, and the gradient exchange shared with the others.
 */
import { parentPort } from 'node:worker_threads';
import * as tf from '@tensorflow/tfjs-core';
import { initWasmBackend } from './init-wasm-backend.js';
import { ReplicaAbortedError, ReplicaExchange } from './replica-exchange.js';
import type {
  FromReplica,
  ReplicaModel,
  ReplicaProgram,
  ReplicaSgdOptions,
  ReplicaState,
  ReplicaStepResult,
  ShardStep,
  ToReplica,
} from './replica-program.js';
import { sgdMomentumStep } from './sgd-momentum.js';
import type { WasmHeap } from './wasm-heap.js';

class Replica {
  private exchange: ReplicaExchange | undefined;
  private readonly velocities: tf.Variable[];

  constructor(
    private readonly model: ReplicaModel<unknown>,
    private readonly rank: number,
    private readonly replicas: number,
    private readonly sgd: ReplicaSgdOptions,
  ) {
    this.velocities = model.variables.map((v) => tf.variable(tf.zerosLike(v), false));
  }

  get shapes(): number[][] {
    return this.model.variables.map((v) => v.shape);
  }

  connect(buffer: SharedArrayBuffer): void {
    const values = this.model.variables.reduce((sum, v) => sum + v.size, 0);
    this.exchange = new ReplicaExchange(buffer, this.rank, { replicas: this.replicas, values });
  }

  /**
   * The gradients of `weight` times the shard's loss (so that their sum over the replicas is the batch's
   * gradient), summed over the replicas in rank order: the same float32 additions in every replica, so
   * the same update. Nothing is applied anywhere when some replica's loss is not finite.
   */
  step({ shard, weight, learningRate }: ShardStep<unknown>): ReplicaStepResult {
    const exchange = this.exchange;
    if (exchange === undefined) throw new Error('step before the replica was connected to the exchange');
    const { variables } = this.model;
    let parts: Record<string, tf.Scalar> = {};
    let total: tf.Scalar | undefined;
    const { value, grads } = tf.variableGrads(() => {
      const loss = this.model.loss(shard);
      parts = Object.fromEntries(Object.entries(loss.parts ?? {}).map(([name, t]) => [name, tf.keep(t)]));
      total = tf.keep(loss.total);
      return tf.mul(loss.total, weight);
    }, variables);
    const losses: Record<string, number> = { total: (total as tf.Scalar).dataSync()[0] };
    for (const [name, t] of Object.entries(parts)) losses[name] = t.dataSync()[0];
    tf.dispose([value, total as tf.Scalar, ...Object.values(parts)]);
    // Variables the loss does not reach (one head's batches) have no gradient in any replica: zeros in the
    // exchange, and no update, as a lone optimizer would skip them.
    const heap = tf.backend() as unknown as WasmHeap;
    const own = variables.map((v) =>
      grads[v.name] ? (heap.typedArrayFromHeap(grads[v.name]) as Float32Array) : new Float32Array(v.size),
    );
    const applied = exchange.contribute(own, losses.total).every(Number.isFinite);
    const sums = applied ? this.sumOverReplicas(grads) : [];
    exchange.release();
    tf.dispose(grads);
    for (const [i, sum] of sums.entries()) {
      if (sum === null) continue;
      sgdMomentumStep(variables[i], this.velocities[i], sum, { learningRate, ...this.sgd });
      sum.dispose();
    }
    return { losses, applied, tensors: tf.memory().numTensors };
  }

  /** Per variable, the sum of every replica's gradient in rank order (null where there is none). */
  private sumOverReplicas(grads: tf.NamedTensorMap): (tf.Tensor | null)[] {
    const exchange = this.exchange as ReplicaExchange;
    let offset = 0;
    return this.model.variables.map((variable) => {
      const start = offset;
      offset += variable.size;
      const own = grads[variable.name];
      if (!own) return null;
      return tf.tidy(() => {
        let sum: tf.Tensor | undefined;
        for (let r = 0; r < this.replicas; r++) {
          const term =
            r === this.rank
              ? own
              : tf.tensor(exchange.slot(r).subarray(start, start + variable.size), variable.shape, 'float32');
          sum = sum === undefined ? term : tf.add(sum, term);
        }
        return sum === own ? tf.clone(own) : (sum as tf.Tensor);
      });
    });
  }

  readState(): ReplicaState {
    const values = (list: tf.Variable[]) => list.map((v) => v.dataSync() as Float32Array);
    return { weights: values(this.model.variables), velocities: values(this.velocities) };
  }

  writeState(state: ReplicaState): void {
    const pairs = [
      [this.model.variables, state.weights],
      [this.velocities, state.velocities],
    ] as const;
    for (const [list, values] of pairs) {
      for (const [i, v] of list.entries()) tf.tidy(() => v.assign(tf.tensor(values[i], v.shape, 'float32')));
    }
  }
}

let replica: Replica | undefined;

async function handle(message: ToReplica): Promise<FromReplica> {
  if (message.type === 'init') {
    await initWasmBackend({ threads: 1 });
    const module = (await import(message.programUrl)) as { replicaProgram?: ReplicaProgram };
    if (typeof module.replicaProgram?.create !== 'function') {
      throw new Error(`${message.programUrl} does not export a replicaProgram with a create function`);
    }
    const model = await module.replicaProgram.create(message.init);
    replica = new Replica(model, message.rank, message.replicas, message.sgd);
    return { type: 'ready', shapes: replica.shapes };
  }
  if (replica === undefined) throw new Error(`'${message.type}' before 'init'`);
  switch (message.type) {
    case 'connect':
      replica.connect(message.exchange);
      return { type: 'connected' };
    case 'step':
      return { type: 'stepped', ...replica.step(message) };
    case 'read-state': {
      return { type: 'state', state: replica.readState() };
    }
    case 'write-state':
      replica.writeState(message.state);
      return { type: 'done' };
  }
}

const port = parentPort;
if (port === null) throw new Error('replica-worker runs in a worker thread started by startReplicas');
// Messages are handled one at a time, in order: a step blocks at the exchange's barriers anyway.
let queue = Promise.resolve();
port.on('message', (message: ToReplica) => {
  queue = queue.then(async () => {
    try {
      const reply = await handle(message);
      const transfer = reply.type === 'state' ? [...reply.state.weights, ...reply.state.velocities] : [];
      port.postMessage(
        reply,
        transfer.map((a) => a.buffer as ArrayBuffer),
      );
    } catch (error) {
      const aborted = error instanceof ReplicaAbortedError;
      const text = error instanceof Error ? (error.stack ?? error.message) : String(error);
      port.postMessage({ type: 'failed', message: text, aborted } satisfies FromReplica);
    }
  });
});
