import { existsSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { abortExchange, exchangeBytes } from './replica-exchange.js';
import type {
  FromReplica,
  ReplicaSgdOptions,
  ReplicaState,
  ReplicaStepResult,
  ShardStep,
  ToReplica,
} from './replica-program.js';

export interface ReplicaGroupOptions<Init> {
  /**
   * The JavaScript module (URL or absolute path) that exports `replicaProgram` (see `ReplicaProgram`);
   * its imports resolve without the workspace's development exports (to the packages' dist).
   */
  program: string | URL;
  /** Given to `replicaProgram.create` in every replica. */
  init: Init;
  /** Worker threads, each training on its shard of every batch; at least 1. */
  replicas: number;
  sgd: ReplicaSgdOptions;
}

/**
 * Starts `options.replicas` worker threads, each with the wasm backend on one thread and a copy of the
 * program's model, and connects them through a shared gradient exchange. Set their weights with
 * `writeState` before the first step; they then stay equal (see `ReplicaExchange`). The threads keep
 * the process alive until `stop`.
 */
export async function startReplicas<Init, Shard>(
  options: ReplicaGroupOptions<Init>,
): Promise<ReplicaGroup<Shard>> {
  const { replicas, sgd } = options;
  if (!(Number.isInteger(replicas) && replicas >= 1)) {
    throw new Error(`startReplicas: options.replicas must be an integer >= 1, got ${replicas}`);
  }
  const programUrl = moduleUrl(options.program);
  const group = new ReplicaGroup<Shard>(Array.from({ length: replicas }, startWorker));
  try {
    await group.connect((rank) => ({ type: 'init', programUrl, init: options.init, rank, replicas, sgd }));
  } catch (error) {
    await group.stop();
    throw error;
  }
  return group;
}

interface Pending {
  resolve(reply: FromReplica): void;
  reject(error: Error): void;
}

/** Data-parallel replicas of one model, trained by momentum SGD on the average of their gradients. */
export class ReplicaGroup<Shard> {
  private variableShapes: number[][] = [];
  private exchange: SharedArrayBuffer | undefined;
  private readonly pending: Pending[][];
  private failure: Error | undefined;

  constructor(private readonly workers: Worker[]) {
    this.pending = workers.map(() => []);
    workers.forEach((worker, rank) => {
      worker.on('message', (reply: FromReplica) => this.receive(rank, reply));
      worker.on('error', (error) => this.fail(new Error(`replica ${rank} failed: ${error.stack ?? error}`)));
      worker.on('exit', (code) => this.fail(new Error(`replica ${rank} exited (code ${code})`)));
    });
  }

  get size(): number {
    return this.workers.length;
  }

  /** Shapes of the replicas' variables, in order. */
  get shapes(): number[][] {
    return this.variableShapes;
  }

  /** @internal Builds every replica's model, then gives them one exchange sized for its variables. */
  async connect(init: (rank: number) => ToReplica): Promise<void> {
    const ready = await this.requestAll(init);
    const shapes = ready.map((reply) => (reply as { shapes: number[][] }).shapes);
    for (const [rank, s] of shapes.entries()) {
      if (JSON.stringify(s) !== JSON.stringify(shapes[0])) {
        throw new Error(`startReplicas: replica ${rank}'s variables differ from replica 0's`);
      }
    }
    this.variableShapes = shapes[0];
    const values = shapes[0].reduce((sum, shape) => sum + shape.reduce((a, b) => a * b, 1), 0);
    const exchange = new SharedArrayBuffer(exchangeBytes({ replicas: this.size, values }));
    this.exchange = exchange;
    await this.requestAll(() => ({ type: 'connect', exchange }));
  }

  /**
   * One SGD step: replica r computes the gradients of `steps[r].shard`'s loss; all apply the average
   * weighted by `steps[r].weight` (unless a loss was not finite). Resolves to every replica's result.
   */
  async step(steps: ShardStep<Shard>[]): Promise<ReplicaStepResult[]> {
    if (steps.length !== this.size) {
      throw new Error(`ReplicaGroup.step: ${steps.length} shards for ${this.size} replicas`);
    }
    const replies = await this.requestAll((rank) => ({ type: 'step', ...steps[rank] }));
    return replies.map((reply) => {
      const { losses, applied, tensors } = reply as ReplicaStepResult;
      return { losses, applied, tensors };
    });
  }

  /** A replica's weights and momentum buffers (every replica holds the same). */
  async readState(rank = 0): Promise<ReplicaState> {
    return ((await this.request(rank, { type: 'read-state' })) as { state: ReplicaState }).state;
  }

  /** Sets every replica's weights and momentum buffers, in variable order. */
  async writeState(state: ReplicaState): Promise<void> {
    for (const [name, list] of Object.entries(state)) {
      const sizes = list.map((values: Float32Array) => values.length);
      const expected = this.shapes.map((shape) => shape.reduce((a, b) => a * b, 1));
      if (JSON.stringify(sizes) !== JSON.stringify(expected)) {
        throw new Error(
          `ReplicaGroup.writeState: state.${name} has ${sizes.length} arrays of [${sizes.slice(0, 8)}] values ` +
            `where the replicas' ${expected.length} variables have [${expected.slice(0, 8)}]`,
        );
      }
    }
    await this.requestAll(() => ({ type: 'write-state', state }));
  }

  /** Ends the worker threads. */
  async stop(): Promise<void> {
    this.fail(new Error('the replicas were stopped'));
    await Promise.all(this.workers.map((worker) => worker.terminate()));
  }

  private requestAll(message: (rank: number) => ToReplica): Promise<FromReplica[]> {
    return Promise.all(this.workers.map((_, rank) => this.request(rank, message(rank))));
  }

  private request(rank: number, message: ToReplica): Promise<FromReplica> {
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => {
      this.pending[rank].push({ resolve, reject });
      this.workers[rank].postMessage(message);
    });
  }

  private receive(rank: number, reply: FromReplica): void {
    const waiter = this.pending[rank].shift();
    if (reply.type === 'failed') {
      // A replica that gave up at a barrier because another failed does not name the cause.
      if (!reply.aborted || this.failure === undefined)
        this.fail(new Error(`replica ${rank}: ${reply.message}`));
      waiter?.reject(this.failure as Error);
      return;
    }
    waiter?.resolve(reply);
  }

  private fail(error: Error): void {
    if (this.failure === undefined) this.failure = error;
    if (this.exchange) abortExchange(this.exchange);
    for (const queue of this.pending) for (const waiter of queue.splice(0)) waiter.reject(this.failure);
  }
}

function moduleUrl(program: string | URL): string {
  const url =
    program instanceof URL
      ? program.href
      : program.startsWith('file:')
        ? program
        : pathToFileURL(program).href;
  if (!/\.[cm]?js$/.test(url)) {
    throw new Error(
      `startReplicas: options.program must be a JavaScript module (.js or .mjs), got ${url}: replicas run in ` +
        'worker threads, where Node 20 applies no TypeScript loader (compile the program first)',
    );
  }
  return url;
}

/**
 * The compiled worker entry: beside this module in dist, or in dist when this runs from source. Without
 * the parent's Node options: its loaders and export conditions (tsx, `development`) would have the
 * worker import TypeScript sources, which Node 20 cannot run there.
 */
function startWorker(): Worker {
  const ownUrl = import.meta.url;
  const entry = new URL(ownUrl.endsWith('.ts') ? '../dist/replica-worker.js' : './replica-worker.js', ownUrl);
  if (!existsSync(entry)) {
    throw new Error(
      `startReplicas: ${fileURLToPath(entry)} is missing: build @deepmask/wasm-training (pnpm build)`,
    );
  }
  return new Worker(entry, { execArgv: [] });
}
