import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { DeepMask } from '@deepmask/model';
import type { PatchBatch } from '@deepmask/sampling';
import { type ReplicaGroup, startReplicas } from '@deepmask/wasm-training/replicas';
import * as tf from '@tensorflow/tfjs-core';
import { TrainerError } from './errors.js';
import type { BatchLosses } from './loop.js';
import type { SgdMomentum, SgdOptions } from './optimizer.js';
import type { PatchShard, ReplicaInit } from './replica-program.js';

/** The compiled replica program: beside this module in dist, or in dist when the trainer runs from source. */
const PROGRAM = new URL(
  import.meta.url.endsWith('.ts') ? '../dist/replica-program.js' : './replica-program.js',
  import.meta.url,
);

/**
 * Data-parallel training (`--replicas N`): N worker threads, each with the wasm backend on one thread and a
 * copy of the model, train on a share of every batch and average their gradients (see
 * `@deepmask/wasm-training/replicas`). The trainer's own model and optimizer are brought up to date by
 * `pull` before checkpoints and evaluations.
 */
export class ReplicatedSteps {
  private stale = false;

  private constructor(
    private readonly group: ReplicaGroup<PatchShard>,
    private readonly model: DeepMask,
    private readonly optimizer: SgdMomentum,
  ) {}

  /** Starts the replicas with the weights and momentum of `model` and `optimizer`. */
  static async start(
    model: DeepMask,
    optimizer: SgdMomentum,
    options: SgdOptions & { replicas: number },
  ): Promise<ReplicatedSteps> {
    if (!existsSync(PROGRAM)) {
      throw new TrainerError(
        `--replicas: ${fileURLToPath(PROGRAM)} is missing; build the trainer first (pnpm build)`,
      );
    }
    const group = await startReplicas<ReplicaInit, PatchShard>({
      program: PROGRAM,
      init: { config: model.config },
      replicas: options.replicas,
      sgd: { momentum: options.momentum, weightDecay: options.weightDecay },
    });
    const steps = new ReplicatedSteps(group, model, optimizer);
    try {
      const weights = await Promise.all(
        model.trainableVariables.map(async (v) => (await v.data()) as Float32Array),
      );
      await group.writeState({ weights, velocities: (await optimizer.state()).buffers });
    } catch (error) {
      await group.stop();
      throw error;
    }
    return steps;
  }

  /**
   * One SGD step on `batch`, the replicas taking consecutive shares of its samples (weighted by their
   * sizes) and seeding their dropout from `Math.random` (the run's generator, so resumes stay exact).
   * No replica applies it when a loss is not finite. Resolves to the batch's losses.
   */
  async step(batch: PatchBatch, learningRate: number, lambda: number | undefined): Promise<BatchLosses> {
    const n = batch.labels.length;
    const replicas = this.group.size;
    const bounds = Array.from({ length: replicas + 1 }, (_, r) => Math.floor((n * r) / replicas));
    const rows = (values: Float32Array, r: number) =>
      values.slice((bounds[r] * values.length) / n, (bounds[r + 1] * values.length) / n);
    const shards = Array.from({ length: replicas }, (_, r) => ({
      shard: {
        patches: rows(batch.patches, r),
        maskTargets: rows(batch.maskTargets, r),
        labels: rows(batch.labels, r),
        heads: batch.heads,
        lambda,
        seed: Math.floor(Math.random() * 2 ** 32),
      },
      weight: (bounds[r + 1] - bounds[r]) / n,
      learningRate,
    }));
    const results = await this.group.step(shards);
    this.stale = true;
    const mean = (part: string) => results.reduce((sum, r, i) => sum + shards[i].weight * r.losses[part], 0);
    return { loss: mean('total'), maskLoss: mean('mask'), scoreLoss: mean('score') };
  }

  /** Copies the replicas' weights and momentum into the trainer's model and optimizer. */
  async pull(): Promise<void> {
    if (!this.stale) return;
    const { weights, velocities } = await this.group.readState();
    for (const [i, v] of this.model.trainableVariables.entries()) {
      tf.tidy(() => v.assign(tf.tensor(weights[i], v.shape, 'float32')));
    }
    this.optimizer.loadState(
      { shapes: this.model.trainableVariables.map((v) => v.shape), buffers: velocities },
      'the replicas',
    );
    this.stale = false;
  }

  stop(): Promise<void> {
    return this.group.stop();
  }
}
