import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
// tfjs-core's Node bundle leaves gradients unregistered (the union package @tensorflow/tfjs registers them).
import '@tensorflow/tfjs-core/dist/register_all_gradients';

export const BACKENDS = ['cpu', 'wasm'] as const;

export async function useBackend(name: (typeof BACKENDS)[number]): Promise<void> {
  if (!(await tf.setBackend(name))) throw new Error(`test: backend '${name}' failed to initialise`);
  await tf.ready();
}
