import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import {
  createSampler,
  type PatchBatch,
  prefetchInOrder,
  type SamplingConfigInput,
} from '@deepmask/sampling';
import { loadCocoData } from './coco-data.js';
import { TrainerError } from './errors.js';
import type { BatchSource } from './loop.js';

/** The training split that each sampler thread loads: the `--data` folder and the `--ann` file. */
export interface SamplerThreadInit {
  data: string;
  ann: string;
}

/** The trainer's messages to a sampler thread: the sampler to make (once), then batch indices. */
export type SamplerThreadRequest =
  | { kind: 'sample'; config: SamplingConfigInput; seed: number }
  | { kind: 'batch'; index: number };

/** A sampler thread's messages: 'ready' (or 'failed') once it has loaded the split, then batches. */
export type SamplerThreadReply =
  | { kind: 'ready' }
  | { kind: 'failed'; name: string; message: string }
  | { kind: 'batch'; index: number; batch: PatchBatch }
  | { kind: 'batch-failed'; index: number; message: string };

/**
 * The compiled thread program: beside this module in dist, or in dist when the trainer runs from source. It
 * starts without the parent's Node options: their loaders and export conditions (tsx, `development`) would
 * have it import TypeScript sources, which Node 20 cannot run there.
 */
const PROGRAM = new URL(
  import.meta.url.endsWith('.ts') ? '../dist/sampler-thread.js' : './sampler-thread.js',
  import.meta.url,
);

/** Batches in preparation per thread. */
const DEPTH = 3;

/** Where a run's training batches come from: the training split, loaded, ready to sample. */
export interface TrainingBatches {
  /** The batches of `createSampler` on the split with `config` and `seed`. */
  sample(config: SamplingConfigInput, seed: number): BatchSource;
  stop(): Promise<void>;
}

/**
 * Loads the training split for sampling in `threads` worker threads (`ThreadedSampler`) or, with 0, in this
 * thread; the batches are the same either way.
 */
export async function openTrainingBatches(
  init: SamplerThreadInit,
  threads: number,
): Promise<TrainingBatches> {
  if (!(Number.isInteger(threads) && threads >= 0)) {
    throw new TrainerError(`--sampler-threads: expected an integer >= 0, got ${threads}`);
  }
  if (threads > 0) return ThreadedSampler.start(init, threads);
  const { dataset, images, decoder } = await loadCocoData(init.data, init.ann);
  return {
    sample: (config, seed) => createSampler({ dataset, images, decoder, config, seed }),
    stop: async () => {},
  };
}

interface Pending {
  resolve: (batch: PatchBatch) => void;
  reject: (error: Error) => void;
}

/**
 * The training batches of `@deepmask/sampling`, composed in worker threads: decoding, cropping and mask
 * targets (3-5 ms a batch of 32 for the tiny model, on the trainer's thread otherwise) run on cores that
 * the training step leaves idle. Batch `i` is the sampler's batch `i` (a pure function of the seed and the
 * index), made by thread `i mod threads`, so runs resume exactly as with the sampler in process.
 */
export class ThreadedSampler implements BatchSource, TrainingBatches {
  private readonly pending = new Map<number, Pending>();
  private failure: Error | undefined;

  private constructor(private readonly workers: Worker[]) {
    const fail = (error: Error) => {
      this.failure ??= error;
      for (const { reject } of this.pending.values()) reject(this.failure);
      this.pending.clear();
    };
    for (const worker of workers) {
      worker.on('message', (reply: SamplerThreadReply) => this.receive(reply));
      worker.on('error', (error) => fail(new Error(`sampling thread failed: ${error.message}`)));
      worker.on('exit', (code) => fail(new Error(`sampling thread stopped (exit code ${code})`)));
    }
  }

  /**
   * Starts `threads` threads; resolves once each has loaded the training split (its errors name the flag and
   * file, as `loadCocoData`'s do here), or throws the first error.
   */
  static async start(init: SamplerThreadInit, threads: number): Promise<ThreadedSampler> {
    if (!existsSync(PROGRAM)) {
      throw new TrainerError(`${fileURLToPath(PROGRAM)} is missing; build the trainer first (pnpm build)`);
    }
    const workers = Array.from(
      { length: threads },
      () => new Worker(PROGRAM, { workerData: init, execArgv: [] }),
    );
    const firsts = await Promise.allSettled(workers.map(firstReply));
    const failed = firsts.find((first) => first.status === 'rejected' || first.value.kind !== 'ready');
    if (failed !== undefined) {
      await Promise.all(workers.map((worker) => worker.terminate()));
      if (failed.status === 'rejected') throw failed.reason;
      const first = failed.value;
      if (first.kind === 'failed' && first.name === 'TrainerError') throw new TrainerError(first.message);
      throw new Error(
        `sampling thread: ${first.kind === 'failed' ? first.message : `sent '${first.kind}' first`}`,
      );
    }
    return new ThreadedSampler(workers);
  }

  /** Makes each thread's sampler: `createSampler` with the loaded split, `config` and `seed`. */
  sample(config: SamplingConfigInput, seed: number): BatchSource {
    const request: SamplerThreadRequest = { kind: 'sample', config, seed };
    for (const worker of this.workers) worker.postMessage(request);
    return this;
  }

  /** Batches fromIndex, fromIndex + 1, ... in order, DEPTH per thread in preparation at any time. */
  prefetch(fromIndex: number): AsyncGenerator<PatchBatch, never, undefined> {
    return prefetchInOrder((index) => this.request(index), fromIndex, DEPTH * this.workers.length);
  }

  async stop(): Promise<void> {
    await Promise.all(this.workers.map((worker) => worker.terminate()));
  }

  private request(index: number): Promise<PatchBatch> {
    if (this.failure) return Promise.reject(this.failure);
    return new Promise<PatchBatch>((resolve, reject) => {
      this.pending.set(index, { resolve, reject });
      this.workers[index % this.workers.length].postMessage({
        kind: 'batch',
        index,
      } satisfies SamplerThreadRequest);
    });
  }

  private receive(reply: SamplerThreadReply): void {
    if (reply.kind !== 'batch' && reply.kind !== 'batch-failed') return;
    const pending = this.pending.get(reply.index);
    this.pending.delete(reply.index);
    if (reply.kind === 'batch') pending?.resolve(reply.batch);
    else pending?.reject(new Error(reply.message));
  }
}

/** A new thread's first message: 'ready' once it has loaded the data, or why it could not. */
function firstReply(worker: Worker): Promise<SamplerThreadReply> {
  return new Promise<SamplerThreadReply>((resolve, reject) => {
    const listeners = {
      message: (reply: SamplerThreadReply) => settle(() => resolve(reply)),
      error: (error: Error) => settle(() => reject(error)),
      exit: (code: number) => settle(() => reject(new Error(`sampling thread stopped (exit code ${code})`))),
    };
    // Only these: a worker's own listeners keep its port referenced.
    const settle = (then: () => void) => {
      for (const [event, listener] of Object.entries(listeners)) worker.off(event, listener);
      then();
    };
    for (const [event, listener] of Object.entries(listeners)) worker.on(event, listener);
  });
}
