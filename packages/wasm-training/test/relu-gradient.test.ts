import * as tf from '@tensorflow/tfjs-core';
import { afterAll, describe, expect, it } from 'vitest';
import { ReluGradient } from '../src/relu-gradient.js';
import { simdKernels } from '../src/simd-kernels.js';
import { expectNoGrowth, onBothBackends, randomValues, useBackend } from './backends.js';

afterAll(async () => {
  await useBackend('cpu');
});

// y around 0 (negative, zero, positive), NaN, infinities; dy with zeros of both signs, NaN and infinities.
const Y = [
  1,
  -2,
  0,
  -0,
  Number.NaN,
  0.5,
  Number.POSITIVE_INFINITY,
  Number.NEGATIVE_INFINITY,
  3,
  -1e-30,
  1e-30,
];
const DY = [-2, 3, 5, 7, 1, Number.NaN, -0, 4, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, -6];

describe.each([false, true])('reluGradient in our SIMD module (shared memory %s)', (shared) => {
  const memory = new WebAssembly.Memory({ initial: 1, maximum: 65536, shared });
  const kernels = simdKernels(shared ? { wasm: { wasmMemory: memory } } : { wasm: { asm: { memory } } });

  it('gives dy step(y) as the two float32 ops do, in vectors and the tail', () => {
    const n = Y.length;
    const [dy, y, out] = [4, 64, 128].map((at) => new Float32Array(memory.buffer, at, n));
    dy.set(DY);
    y.set(Y);
    expect(kernels?.reluGradient(dy, y, out)).toBe(true);
    // step(y): 1 where y > 0, NaN where y is NaN, else 0; then a float32 multiply (inf x 0 is NaN, -6 x 0 -0).
    const step = Y.map((v) => (Number.isNaN(v) ? Number.NaN : v > 0 ? 1 : 0));
    expect(Array.from(out)).toEqual(DY.map((d, i) => Math.fround(d * step[i])));
  });

  it('declines views of other memory and unequal lengths', () => {
    const inMemory = new Float32Array(memory.buffer, 0, 4);
    expect(kernels?.reluGradient(new Float32Array(4), inMemory, inMemory)).toBe(false);
    expect(kernels?.reluGradient(inMemory, new Float32Array(memory.buffer, 64, 3), inMemory)).toBe(false);
  });
});

describe(`${ReluGradient} on wasm`, () => {
  it('equals dy step(y) on cpu exactly, and frees what it makes', async () => {
    const shape = [3, 5, 7, 4];
    const size = 3 * 5 * 7 * 4;
    const inputs = () => ({
      dy: tf.tensor(randomValues(size, 21), shape),
      y: tf.tensor(randomValues(size, 22), shape),
    });
    const { cpu } = await onBothBackends(() => {
      const { dy, y } = inputs();
      return tf.mul(dy, tf.step(y));
    });
    await useBackend('wasm');
    const onWasm = tf.tidy(() => (tf.engine().runKernel(ReluGradient, inputs()) as tf.Tensor).dataSync());
    expect(Array.from(onWasm)).toEqual(Array.from(cpu[0]));
    expectNoGrowth(() =>
      tf.tidy(() => (tf.engine().runKernel(ReluGradient, inputs()) as tf.Tensor).dataSync()),
    );
  });
});
