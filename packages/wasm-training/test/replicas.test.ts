import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ReplicaGroup, type ReplicaState, startReplicas } from '../src/replicas.js';
import { sgdMomentumStep } from '../src/sgd-momentum.js';
import { maxAbsDifference, randomValues, useBackend } from './backends.js';
import {
  IMAGE,
  SHAPES,
  type SmallShard,
  smallLoss,
  smallVariables,
} from './fixtures/small-replica-program.mjs';

const PROGRAM = new URL('./fixtures/small-replica-program.mjs', import.meta.url);
const SGD = { momentum: 0.9, weightDecay: 1e-3 };
const PIXELS = IMAGE[0] * IMAGE[1] * IMAGE[2];
const sizes = Object.values(SHAPES).map((shape) => shape.reduce((a: number, b: number) => a * b, 1));

function initialState(): ReplicaState {
  return {
    weights: sizes.map((size, i) => randomValues(size, 10 + i)),
    velocities: sizes.map((size) => new Float32Array(size)),
  };
}

function batch(n: number, seed: number): SmallShard {
  return { images: randomValues(n * PIXELS, seed), targets: randomValues(n, seed + 1) };
}

/** Samples [from, to) of a batch. */
function shardOf(whole: SmallShard, from: number, to: number): SmallShard {
  return { images: whole.images.slice(from * PIXELS, to * PIXELS), targets: whole.targets.slice(from, to) };
}

/** The fixture's variables in this thread, holding `weights`. */
function variablesHolding(weights: Float32Array[]): tf.Variable[] {
  const variables = smallVariables();
  for (const [i, v] of variables.entries()) tf.tidy(() => v.assign(tf.tensor(weights[i], v.shape)));
  return variables;
}

/** The same SGD steps on whole batches in this thread, on cpu: the reference. */
async function referenceSteps(state: ReplicaState, batches: SmallShard[], learningRate: number) {
  const variables = variablesHolding(state.weights);
  const velocities = variables.map((v) => tf.variable(tf.zerosLike(v), false));
  for (const whole of batches) {
    const { grads, value } = tf.variableGrads(() => smallLoss(variables, whole).total, variables);
    variables.forEach((v, i) => {
      if (grads[v.name]) sgdMomentumStep(v, velocities[i], grads[v.name], { learningRate, ...SGD });
    });
    tf.dispose([value, ...Object.values(grads)]);
  }
  const values = await Promise.all(variables.map(async (v) => (await v.data()) as Float32Array));
  tf.dispose([...variables, ...velocities]);
  return values;
}

let group: ReplicaGroup<SmallShard>;
beforeAll(async () => {
  await useBackend('cpu');
  group = await startReplicas<{ tag: string }, SmallShard>({
    program: PROGRAM,
    init: { tag: 'small' },
    replicas: 2,
    sgd: SGD,
  });
});
afterAll(() => group.stop());

describe('data-parallel replicas', () => {
  it('reports the variables of the program', () => {
    expect(group.shapes).toEqual(Object.values(SHAPES));
    expect(group.size).toBe(2);
  });

  it('take the same SGD steps as one thread on whole batches (uneven shards weighted by size; 1e-5)', async () => {
    const start = initialState();
    await group.writeState(start);
    const batches = [batch(4, 100), batch(4, 200), batch(4, 300)];
    const reports = [];
    for (const whole of batches) {
      reports.push(
        await group.step([
          { shard: shardOf(whole, 0, 3), weight: 3 / 4, learningRate: 0.05 },
          { shard: shardOf(whole, 3, 4), weight: 1 / 4, learningRate: 0.05 },
        ]),
      );
    }
    const reference = await referenceSteps(start, batches, 0.05);
    const [first, second] = [await group.readState(0), await group.readState(1)];
    for (const [i, values] of reference.entries()) {
      expect(maxAbsDifference(first.weights[i], values)).toBeLessThan(1e-5);
      expect(first.weights[i]).toEqual(second.weights[i]); // bit for bit
      expect(first.velocities[i]).toEqual(second.velocities[i]);
    }
    // The variable that no loss reaches keeps its value and its zero momentum.
    expect(first.weights[2]).toEqual(start.weights[2]);
    expect(Array.from(first.velocities[2])).toEqual([0, 0, 0, 0, 0]);
    expect(reports.every((r) => r.every((replica) => replica.applied))).toBe(true);
    expect(Object.keys(reports[0][0].losses).sort()).toEqual(['mean', 'total']);
  });

  it('report each shard loss, and weighted by the shards they make the batch loss', async () => {
    const start = initialState();
    await group.writeState(start);
    const whole = batch(4, 400);
    const [a, b] = await group.step([
      { shard: shardOf(whole, 0, 1), weight: 1 / 4, learningRate: 0 },
      { shard: shardOf(whole, 1, 4), weight: 3 / 4, learningRate: 0 },
    ]);
    const variables = variablesHolding(start.weights);
    const expected = tf.tidy(() => smallLoss(variables, whole).total.dataSync()[0]);
    tf.dispose(variables);
    expect(a.losses.total / 4 + (3 * b.losses.total) / 4).toBeCloseTo(expected, 5);
  });

  it('apply no step anywhere when one shard loss is not finite', async () => {
    const start = initialState();
    await group.writeState(start);
    const whole = batch(2, 500);
    const results = await group.step([
      { shard: shardOf(whole, 0, 1), weight: 0.5, learningRate: 0.1 },
      { shard: { ...shardOf(whole, 1, 2), poison: true }, weight: 0.5, learningRate: 0.1 },
    ]);
    expect(results.map((r) => r.applied)).toEqual([false, false]);
    expect(Number.isNaN(results[1].losses.total)).toBe(true);
    for (const rank of [0, 1]) expect((await group.readState(rank)).weights).toEqual(start.weights);
  });

  it('free their tensors: the count in each worker is flat over steps', async () => {
    await group.writeState(initialState());
    const counts = [];
    for (let i = 0; i < 4; i++) {
      const whole = batch(2, 600 + i);
      const results = await group.step([
        { shard: shardOf(whole, 0, 1), weight: 0.5, learningRate: 0.01 },
        { shard: shardOf(whole, 1, 2), weight: 0.5, learningRate: 0.01 },
      ]);
      counts.push(results.map((r) => r.tensors));
    }
    expect(counts[3]).toEqual(counts[1]);
  });

  it('reject a state of the wrong sizes, naming it', async () => {
    const state = initialState();
    state.weights[1] = new Float32Array(3);
    await expect(group.writeState(state)).rejects.toThrow(
      /state\.weights has 3 arrays of \[72,3,5\] values where the replicas' 3 variables have \[72,4,5\]/,
    );
  });
});

describe('a failing replica', () => {
  it('rejects the step with its error, stops the others, and refuses later calls', async () => {
    const failing = await startReplicas<{ tag: string }, SmallShard>({
      program: PROGRAM,
      init: { tag: 'small' },
      replicas: 2,
      sgd: SGD,
    });
    await failing.writeState(initialState());
    const whole = batch(2, 700);
    const step = failing.step([
      { shard: shardOf(whole, 0, 1), weight: 0.5, learningRate: 0.1 },
      { shard: { ...shardOf(whole, 1, 2), fail: true }, weight: 0.5, learningRate: 0.1 },
    ]);
    await expect(step).rejects.toThrow(/replica 1: .*the shard asked to fail/);
    await expect(failing.readState()).rejects.toThrow(/replica 1: .*the shard asked to fail/);
    await failing.stop();
  });

  it('names a program module without a replicaProgram', async () => {
    const program = new URL('./fixtures/not-a-replica-program.mjs', import.meta.url);
    await expect(startReplicas({ program, init: {}, replicas: 1, sgd: SGD })).rejects.toThrow(
      /not-a-replica-program\.mjs does not export a replicaProgram/,
    );
  });

  it('refuses a TypeScript program module, saying why', async () => {
    const program = new URL('./backends.ts', import.meta.url);
    await expect(startReplicas({ program, init: {}, replicas: 1, sgd: SGD })).rejects.toThrow(
      /must be a JavaScript module .*backends\.ts: replicas run in worker threads/,
    );
  });

  it('rejects a replica count below 1', async () => {
    await expect(startReplicas({ program: PROGRAM, init: {}, replicas: 0, sgd: SGD })).rejects.toThrow(
      /options\.replicas must be an integer >= 1, got 0/,
    );
  });
});
