import { registerWasmTrainingKernels } from '@deepmask/wasm-training';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
// tfjs-core's Node bundle leaves gradients unregistered; the union package @tensorflow/tfjs would register them.
import '@tensorflow/tfjs-core/dist/register_all_gradients';
import '@tensorflow/tfjs-backend-wasm';
import { beforeAll, describe } from 'vitest';

export const BACKENDS = ['cpu', 'wasm'] as const;

/** Runs `body` once per backend, with that backend active. */
export function describeEachBackend(name: string, body: (backend: (typeof BACKENDS)[number]) => void): void {
  for (const backend of BACKENDS) {
    describe(`${name} [${backend}]`, () => {
      beforeAll(async () => {
        // tfjs-backend-wasm lacks the conv filter gradients; @deepmask/wasm-training provides them.
        if (backend === 'wasm') registerWasmTrainingKernels();
        await tf.setBackend(backend);
        await tf.ready();
      });
      body(backend);
    });
  }
}

/** Largest absolute difference of two tensors of equal shape. */
export function maxAbsDiff(a: tf.Tensor, b: tf.Tensor): number {
  if (a.shape.join() !== b.shape.join()) throw new Error(`shapes differ: [${a.shape}] vs [${b.shape}]`);
  return tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]);
}

/** Raw 0..255 pixels, reproducible. */
export function randomPixels(shape: [number, number, number, number], seed = 7): tf.Tensor4D {
  return tf.randomUniform(shape, 0, 255, 'float32', seed) as tf.Tensor4D;
}
