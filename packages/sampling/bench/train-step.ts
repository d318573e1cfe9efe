import '@tensorflow/tfjs-backend-wasm';
// tfjs-core's Node bundle registers no gradients; the union package's does (as the trainer does it).
import '@tensorflow/tfjs';
import { batchToTensors, type PatchBatch, type PatchSampler } from '@deepmask/sampling';
import * as tf from '@tensorflow/tfjs-core';

export interface TrainingRate {
  backend: string;
  /** Patches per step (mobilenet-v1 at 224 does not fit 32 in wasm memory). */
  batchSize: number;
  /** SGD steps per second on one batch reused (sampling out of the way). */
  stepsPerS: number;
  /** The same steps, each on the next batch from `sampler.prefetch` (sampling overlapped); null if not run. */
  prefetchedStepsPerS: number | null;
}

/**
 * Steps per second of the DeepMask training step (forward, joint loss, backward, momentum update) on
 * wasm for the trunk's default config, on batches of `sampler`; null when @deepmask/model or
 * @deepmask/loss cannot be loaded.
 */
export async function measureTrainingSteps(
  trunk: 'tiny' | 'mobilenet-v1',
  sampler: PatchSampler,
  steps: number,
  withPrefetch: boolean,
): Promise<TrainingRate | null> {
  let modelPackage: typeof import('@deepmask/model');
  let lossPackage: typeof import('@deepmask/loss');
  try {
    modelPackage = await import('@deepmask/model');
    lossPackage = await import('@deepmask/loss');
    const { registerWasmTrainingKernels } = await import('@deepmask/wasm-training');
    registerWasmTrainingKernels();
  } catch (error) {
    console.log(`training step not measured: ${(error as Error).message}`);
    return null;
  }
  await tf.setBackend('wasm');
  await tf.ready();
  // The trainer demo's tiny model sets dropout to .1 (apps/trainer/src/demo.ts); the cost is the same.
  const overrides = trunk === 'tiny' ? { dropoutRate: 0.1 } : {};
  const model = modelPackage.createDeepMask(modelPackage.defaultConfig(trunk, overrides), { seed: 1 });
  const optimizer = tf.train.momentum(1e-3, 0.9);
  const step = async (batch: PatchBatch): Promise<void> => {
    const t = batchToTensors(batch);
    const cost = optimizer.minimize(
      () => {
        const out = model.predictPatches(t.patches, { training: true });
        const loss = lossPackage.deepMaskLoss(
          { ...out, maskTargets: t.maskTargets, labels: t.labels },
          { heads: batch.heads },
        );
        return loss.total;
      },
      true,
      model.trainableVariables,
    );
    await cost!.data();
    tf.dispose([cost!, t.patches, t.maskTargets, t.labels]);
  };
  const fixed = await sampler.batch(0);
  await step(fixed); // warm-up: kernel compilation, first allocations
  let start = performance.now();
  for (let i = 0; i < steps; i++) await step(fixed);
  const stepsPerS = steps / ((performance.now() - start) / 1000);
  let prefetchedStepsPerS: number | null = null;
  if (withPrefetch) {
    start = performance.now();
    let taken = 0;
    for await (const batch of sampler.prefetch(0, 2)) {
      await step(batch);
      if (++taken === steps) break;
    }
    prefetchedStepsPerS = steps / ((performance.now() - start) / 1000);
  }
  optimizer.dispose();
  model.dispose();
  return { backend: tf.getBackend(), batchSize: fixed.labels.length, stepsPerS, prefetchedStepsPerS };
}
