import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-core/dist/register_all_gradients';
import { describe, expect, it } from 'vitest';
import { initWasmBackend } from '../src/index.js';
import { maxAbsDifference, randomValues } from './backends.js';

// Its own test file: the wasm module (and so its thread count) is chosen once per process.
describe('initWasmBackend({ threads: 2 }) in Node', () => {
  it('runs the threaded SIMD build on two threads with the same gradients as cpu', async () => {
    const choice = await initWasmBackend({ threads: 2 });
    expect(choice).toEqual({ threads: 2, build: 'threaded-simd' });
    expect(tf.getBackend()).toBe('wasm');
    expect(await initWasmBackend({ threads: 1 })).toBe(choice);

    const x = randomValues(2 * 12 * 12 * 8, 1);
    const w = randomValues(3 * 3 * 8 * 16, 2);
    const gradient = () =>
      tf.tidy(() => {
        const loss = (filter: tf.Tensor) =>
          tf.sum(tf.square(tf.conv2d(tf.tensor4d(x, [2, 12, 12, 8]), filter as tf.Tensor4D, 2, 'same')));
        return tf
          .grad(loss)(tf.tensor4d(w, [3, 3, 8, 16]))
          .dataSync();
      });
    const onWasm = gradient();
    await tf.setBackend('cpu');
    const onCpu = gradient();
    expect(maxAbsDifference(onWasm as Float32Array, onCpu as Float32Array)).toBeLessThan(1e-3);
  });
});
