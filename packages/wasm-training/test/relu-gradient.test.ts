import * as tf from '@tensorflow/tfjs-core';
import { afterAll, describe, expect, it } from 'vitest';
import { ReluGradient } from '../src/relu-gradient.js';
import { simdKernels } from '../src/simd-kernels.js';
import { expectNoGrowth, onBothBackends, randomValues, useBackend } from './backends.js';

afterAll(async () => {
  await useBackend('cpu');
});

// y around 0 (negative, zero, positive) and 6 (a ReLU6's cap), NaN, infinities; dy with zeros of both
// signs, NaN and infinities.
const Y = [
  6,
  7,
  5.5,
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
const DY = [
  1.5,
  -2.5,
  0.25,
  -2,
  3,
  5,
  7,
  1,
  Number.NaN,
  -0,
  4,
  Number.POSITIVE_INFINITY,
  Number.NEGATIVE_INFINITY,
  -6,
];

/** tfjs' step: 1 where x > 0, NaN where x is NaN, else 0. */
const step = (x: number) => (Number.isNaN(x) ? Number.NaN : x > 0 ? 1 : 0);

describe.each([false, true])('reluGradient in our SIMD module (shared memory %s)', (shared) => {
  const memory = new WebAssembly.Memory({ initial: 1, maximum: 65536, shared });
  const kernels = simdKernels(shared ? { wasm: { wasmMemory: memory } } : { wasm: { asm: { memory } } });

  const run = (cap: number) => {
    const n = Y.length;
    const [dy, y, out] = [4, 64, 128].map((at) => new Float32Array(memory.buffer, at, n));
    dy.set(DY);
    y.set(Y);
    expect(kernels?.reluGradient(dy, y, out, cap)).toBe(true);
    return Array.from(out);
  };

  it('gives dy step(y) as the two float32 ops do (no cap), in vectors and the tail', () => {
    // A float32 multiply by step(y): inf x 0 is NaN, -6 x 0 is -0.
    expect(run(Number.POSITIVE_INFINITY)).toEqual(DY.map((d, i) => Math.fround(d * step(Y[i]))));
  });

  it("gives a ReLU6's dy (step(y) - step(y - 6)) as the float32 ops do, with cap 6", () => {
    const mask = Y.map((v) => step(v) - step(Math.fround(v - 6)));
    expect(run(6)).toEqual(DY.map((d, i) => Math.fround(d * mask[i])));
  });

  it('declines views of other memory and unequal lengths', () => {
    const inMemory = new Float32Array(memory.buffer, 0, 4);
    expect(kernels?.reluGradient(new Float32Array(4), inMemory, inMemory, 6)).toBe(false);
    expect(kernels?.reluGradient(inMemory, new Float32Array(memory.buffer, 64, 3), inMemory, 6)).toBe(false);
  });
});

describe(`${ReluGradient} on wasm`, () => {
  const shape = [3, 5, 7, 4];
  const size = 3 * 5 * 7 * 4;
  // y from -8 to 8: either side of 0 and of a ReLU6's cap.
  const inputs = () => ({
    dy: tf.tensor(randomValues(size, 21), shape),
    y: tf.mul(tf.tensor(randomValues(size, 22), shape), 8),
  });

  it.each([
    { cap: undefined, ops: (dy: tf.Tensor, y: tf.Tensor) => tf.mul(dy, tf.step(y)) },
    { cap: 6, ops: (dy: tf.Tensor, y: tf.Tensor) => tf.mul(dy, tf.sub(tf.step(y), tf.step(tf.sub(y, 6)))) },
  ])('equals its tensor ops on cpu exactly (cap $cap), and frees what it makes', async ({ cap, ops }) => {
    const { cpu } = await onBothBackends(() => {
      const { dy, y } = inputs();
      return ops(dy, y);
    });
    await useBackend('wasm');
    const attrs: tf.NamedAttrMap = cap === undefined ? {} : { cap };
    const gradient = () => (tf.engine().runKernel(ReluGradient, inputs(), attrs) as tf.Tensor).dataSync();
    const onWasm = tf.tidy(gradient);
    expect(Array.from(onWasm)).toEqual(Array.from(cpu[0]));
    expectNoGrowth(() => tf.tidy(gradient));
  });

  it('names the inputs that it refuses', async () => {
    await useBackend('wasm');
    const call = () =>
      tf.tidy(() => tf.engine().runKernel(ReluGradient, { dy: tf.ones([2, 3]), y: tf.ones([3, 2]) }));
    expect(call).toThrow(
      `${ReluGradient}: dy (float32 [2,3]) and y (float32 [3,2]) must be float32 of one shape`,
    );
  });
});
