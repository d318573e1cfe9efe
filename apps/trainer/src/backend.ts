import { availableParallelism } from 'node:os';
import * as tf from '@tensorflow/tfjs-core';
import { TrainerError, UsageError } from './errors.js';

export const BACKENDS = ['wasm', 'cpu', 'tensorflow'] as const;
export type BackendName = (typeof BACKENDS)[number];

const TENSORFLOW_PACKAGES = ['@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node'];

/** Makes `name` the active tfjs backend; the wasm backend gets the training kernels and both cores. */
export async function selectBackend(name: BackendName): Promise<void> {
  await registerGradients();
  // Production mode: no "install tfjs-node" banner from the cpu backend on every run.
  tf.env().set('PROD', true);
  if (name === 'wasm') {
    await import('@tensorflow/tfjs-backend-wasm');
    const wasmTraining = await import('@deepmask/wasm-training');
    await wasmTraining.initWasmBackend({ threads: availableParallelism() });
    wasmTraining.registerWasmTrainingKernels();
  } else if (name === 'cpu') {
    await import('@tensorflow/tfjs-backend-cpu');
  } else {
    await importTensorflowBinding();
  }
  if (!(await tf.setBackend(name)))
    throw new TrainerError(`--backend ${name}: the backend failed to initialise`);
  await tf.ready();
}

/** `--replicas` checked against the backend: more than 1 runs only on wasm. */
export function replicasFor(backend: BackendName, requested: number): number {
  if (requested > 1 && backend !== 'wasm') {
    throw new UsageError(
      `--replicas ${requested}: replicas run the wasm backend; with --backend ${backend} use 1`,
    );
  }
  return requested;
}

/**
 * tfjs-core's Node bundle has no gradient functions; in Node only the union package's bundle registers
 * them (tfjs-core's own `register_all_gradients` is ESM with extensionless imports, which Node cannot load).
 */
async function registerGradients(): Promise<void> {
  await import('@tensorflow/tfjs');
}

async function importTensorflowBinding(): Promise<void> {
  const failures: string[] = [];
  for (const specifier of TENSORFLOW_PACKAGES) {
    try {
      // A variable specifier: these packages are optional and not dependencies of the trainer.
      await import(specifier);
      return;
    } catch (error) {
      failures.push(`${specifier}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
    }
  }
  throw new TrainerError(
    `--backend tensorflow needs @tensorflow/tfjs-node-gpu (CUDA) or @tensorflow/tfjs-node installed next to ` +
      `the trainer, e.g. 'pnpm --filter @deepmask/trainer add @tensorflow/tfjs-node@4.22.0' (its install ` +
      `downloads libtensorflow, so it needs internet). Tried: ${failures.join('; ')}`,
  );
}
