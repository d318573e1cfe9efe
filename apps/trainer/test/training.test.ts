import { existsSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../src/backend.js';
import { readCheckpoint } from '../src/checkpoint.js';
import { NonFiniteLossError } from '../src/errors.js';
import type { TrainingHook } from '../src/loop.js';
import { MetricsLog, type StepMetrics } from '../src/metrics-log.js';
import { runTraining, type TrainOptions } from '../src/train.js';
import { smallDataset, tinyRun } from './fixtures.js';

let fixture: Awaited<ReturnType<typeof smallDataset>>;
beforeAll(async () => {
  fixture = await smallDataset();
});
afterAll(() => rmSync(fixture.root, { recursive: true, force: true }));

const stepLosses = (runDir: string) =>
  MetricsLog.read(join(runDir, 'metrics.jsonl'))
    .filter((r): r is StepMetrics => r.type === 'step')
    .map((r) => [r.step, r.loss, r.maskLoss, r.scoreLoss]);

const SETUPS = [
  { backend: 'cpu', replicas: 1 },
  { backend: 'wasm', replicas: 1 },
  { backend: 'wasm', replicas: 2 },
] as const;

for (const { backend, replicas } of SETUPS) {
  describe(`training on ${backend}${replicas > 1 ? ` in ${replicas} data-parallel replicas` : ''}`, () => {
    beforeAll(() => selectBackend(backend));
    const out = (name: string) => join(fixture.root, `${backend}-${replicas}-${name}`);
    const runOptions = (dir: string, overrides: Partial<TrainOptions>) =>
      tinyRun(fixture.data, dir, { replicas, ...overrides });

    it('resumes exactly: 3 steps + resume to 6 gives the losses of 6 uninterrupted steps', async () => {
      await runTraining(runOptions(out('whole'), { maxSteps: 6, checkpointEvery: 0 }), {
        progress: false,
      });
      const first = await runTraining(runOptions(out('split'), { maxSteps: 3 }), {
        progress: false,
      });
      expect([first.reason, first.state.step]).toEqual(['max-steps', 3]);
      const second = await runTraining(runOptions(out('split'), { maxSteps: 6, resume: true }), {
        progress: false,
      });
      expect([second.reason, second.state.step, second.state.samplerIndex]).toEqual(['max-steps', 6, 6]);
      const whole = stepLosses(out('whole'));
      expect(whole).toHaveLength(6);
      expect(stepLosses(out('split'))).toEqual(whole);
    });

    it('keeps the previous checkpoint loadable when a write dies before its rename', async () => {
      let writes = 0;
      const crash = () => {
        writes += 1;
        if (writes === 2) throw new Error('simulated crash between the temporary write and the rename');
      };
      const options = runOptions(out('crash'), { maxSteps: 4, checkpointEvery: 2 });
      await expect(runTraining(options, { progress: false, beforeCheckpointCommit: crash })).rejects.toThrow(
        'simulated crash',
      );
      const checkpoint = await readCheckpoint(join(out('crash'), 'checkpoint'));
      expect(checkpoint?.state.step).toBe(2);
      expect(checkpoint?.optimizer.buffers).toHaveLength(checkpoint!.model.trainableVariables.length);
      checkpoint!.model.dispose();
      // A crash between the two renames leaves only checkpoint.old: it is found, and resuming continues.
      renameSync(join(out('crash'), 'checkpoint'), join(out('crash'), 'checkpoint.old'));
      const resumed = await runTraining({ ...options, resume: true }, { progress: false });
      expect(resumed.state.step).toBe(4);
      expect(readdirSync(out('crash')).filter((name) => name.startsWith('checkpoint'))).toEqual([
        'checkpoint',
      ]);
    });

    it('stops on a non-finite loss with a clear message, leaving the last good checkpoint', async () => {
      const options = runOptions(out('nan'), { maxSteps: 30, checkpointEvery: 1, lr: 1e12 });
      const failure = await runTraining(options, { progress: false }).then(
        () => undefined,
        (error: unknown) => error,
      );
      expect(failure).toBeInstanceOf(NonFiniteLossError);
      const message = (failure as Error).message;
      const failedStep = Number(
        /loss is (?:NaN|-?Infinity) at step (\d+) \(lr 1000000000000\)/.exec(message)?.[1],
      );
      expect(message).toContain('the last checkpoint is kept');
      const checkpoint = await readCheckpoint(join(out('nan'), 'checkpoint'));
      expect(checkpoint?.state.step).toBe(failedStep - 1);
      checkpoint?.model.dispose();
      expect(stepLosses(out('nan')).every(([, loss]) => Number.isFinite(loss))).toBe(true);
    });

    it('keeps the tensor count flat across steps', async () => {
      const counts: number[] = [];
      const count: TrainingHook = { afterStep: () => void counts.push(tf.memory().numTensors) };
      const before = tf.memory().numTensors;
      await runTraining(runOptions(out('memory'), { maxSteps: 6, checkpointEvery: 2 }), {
        progress: false,
        hooks: [count],
      });
      expect(counts).toHaveLength(6);
      expect(new Set(counts.slice(1)).size).toBe(1);
      expect(tf.memory().numTensors).toBe(before);
    });
  });
}

describe('sampler threads', () => {
  beforeAll(() => selectBackend('cpu'));

  it('train on the batches of the sampler in this thread: the same losses step by step', async () => {
    const run = (threads: number) => join(fixture.root, `sampler-threads-${threads}`);
    for (const threads of [0, 1]) {
      await runTraining(tinyRun(fixture.data, run(threads), { maxSteps: 3, samplerThreads: threads }), {
        progress: false,
      });
    }
    const [here, threaded] = [0, 1].map((threads) => stepLosses(run(threads)));
    expect(here).toHaveLength(3);
    expect(threaded).toEqual(here);
  });
});

describe('evaluation during training', () => {
  beforeAll(() => selectBackend('cpu'));

  it('logs validation AR, keeps the best model and writes the results', async () => {
    const runDir = join(fixture.root, 'eval');
    const options = tinyRun(fixture.data, runDir, {
      maxSteps: 4,
      valData: fixture.data.val.dir,
      valAnn: fixture.data.val.ann,
      evalEvery: 2,
    });
    const result = await runTraining(options, { progress: false });
    const evals = MetricsLog.read(join(runDir, 'metrics.jsonl')).filter((r) => r.type === 'eval');
    expect(evals.map((r) => r.step)).toEqual([2, 4]);
    for (const record of evals) {
      expect(record.segm['AR@100']).toBeGreaterThanOrEqual(0);
      expect(record.bbox['AR@1000']).toBeLessThanOrEqual(1);
    }
    expect(result.state.bestStep === 2 || result.state.bestStep === 4).toBe(true);
    expect(existsSync(join(runDir, 'model', 'model.json'))).toBe(true);
    expect(existsSync(join(runDir, 'eval', 'val-results.json'))).toBe(true);
  });
});

describe('data-parallel replicas', () => {
  beforeAll(() => selectBackend('wasm'));
  const out = (name: string) => join(fixture.root, `replicas-${name}`);

  it('share the batch that one thread trains on: the same first-step mask loss (1e-5)', async () => {
    // The mask head has no dropout, so the first step's mask loss depends on the batch and weights only.
    for (const replicas of [1, 2, 3]) {
      await runTraining(tinyRun(fixture.data, out(`first-${replicas}`), { maxSteps: 1, replicas }), {
        progress: false,
      });
    }
    const [one, two, three] = [1, 2, 3].map((r) => stepLosses(out(`first-${r}`))[0]);
    expect(one[2]).toBeGreaterThan(0);
    expect(two[2]).toBeCloseTo(one[2], 5);
    expect(three[2]).toBeCloseTo(one[2], 5);
  });

  it('refuse a batch smaller than the replicas, naming the flags', async () => {
    await expect(
      runTraining(tinyRun(fixture.data, out('small-batch'), { batchSize: 2, replicas: 3 }), {
        progress: false,
      }),
    ).rejects.toThrow('--replicas 3: each replica needs a share of every batch; use --batch-size >= 3');
  });
});
