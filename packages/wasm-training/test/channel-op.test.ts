import * as tf from '@tensorflow/tfjs-core';
import { afterAll, describe, expect, it } from 'vitest';
import { simdKernels } from '../src/simd-kernels.js';
import {
  expectNoGrowth,
  onBothBackends,
  randomValues,
  recordWasmKernelCalls,
  useBackend,
} from './backends.js';

afterAll(async () => {
  await useBackend('cpu');
});

// Channels by whole vectors (8), tiled to 12 (3, 6) and 4 (1) values; value counts with a scalar tail
// (5 x 7 x 3 = 105); the per-channel operand first or second, as [C] or [1, .., 1, C].
const CASES: Array<{ x: number[]; perChannel: number[]; perChannelFirst: boolean }> = [
  { x: [4, 5, 8], perChannel: [8], perChannelFirst: false },
  { x: [5, 7, 3], perChannel: [3], perChannelFirst: false },
  { x: [3, 6], perChannel: [1, 6], perChannelFirst: true },
  { x: [2, 3, 4, 5], perChannel: [1, 1, 5], perChannelFirst: false },
  { x: [7, 1], perChannel: [1], perChannelFirst: true },
];

describe.each(['Add', 'Multiply'] as const)('%s of a per-channel operand on wasm', (kernel) => {
  const op = kernel === 'Add' ? tf.add : tf.mul;

  it.each(CASES)('equals cpu exactly for $x and $perChannel', async ({ x, perChannel, perChannelFirst }) => {
    const size = (shape: number[]) => shape.reduce((a, b) => a * b, 1);
    const { cpu, wasm } = await onBothBackends(() => {
      const [values, channels] = [
        tf.tensor(randomValues(size(x), 11), x),
        tf.tensor(randomValues(size(perChannel), 12), perChannel),
      ];
      const out = perChannelFirst ? op(channels, values) : op(values, channels);
      expect(out.shape).toEqual(x);
      return out;
    });
    expect(Array.from(wasm[0])).toEqual(Array.from(cpu[0]));
  });

  it("computes per-channel operands itself, leaves the rest to wasm's kernel, and frees its intermediates", async () => {
    await useBackend('wasm');
    const [x, bias, column] = [tf.ones([6, 8]), tf.ones([8]), tf.ones([6, 1])];
    const { calls } = recordWasmKernelCalls(
      [kernel],
      (name, inputs) => `${name} ${inputs.b.shape}`,
      () => {
        tf.tidy(() => {
          for (const out of [op(x, bias), op(bias, x), op(x, column)]) out.dataSync();
        });
      },
    );
    expect(calls).toEqual([`${kernel} 6,1`]);
    expectNoGrowth(() => tf.tidy(() => op(x, bias).dataSync()));
    tf.dispose([x, bias, column]);
  });

  it('leaves other broadcasts (a column operand) to wasm', async () => {
    const { cpu, wasm } = await onBothBackends(() =>
      op(tf.tensor(randomValues(24, 3), [4, 6]), tf.tensor(randomValues(4, 4), [4, 1])),
    );
    expect(Array.from(wasm[0])).toEqual(Array.from(cpu[0]));
  });
});

describe('FusedBatchNorm with a zero mean on wasm (an input normalisation)', () => {
  // x scale / sqrt(variance + eps) + offset, over the same channel counts and tails as above.
  it.each(CASES)('equals x * scale + offset as cpu gives it (within 1 ulp) for $x', async ({ x }) => {
    const channels = x[x.length - 1];
    const size = x.reduce((a, b) => a * b, 1);
    const values = randomValues(size, 21).map((v) => 255 * v);
    const scale = randomValues(channels, 22);
    const offset = randomValues(channels, 23);
    const variance = randomValues(channels, 24).map((v) => 1 + Math.abs(v));
    const { cpu, wasm } = await onBothBackends(() =>
      tf.batchNorm(
        tf.tensor(values, x),
        tf.zeros([channels]),
        tf.tensor1d(variance),
        tf.tensor1d(offset),
        tf.tensor1d(scale),
        1e-3,
      ),
    );
    // cpu rounds once (float64 inside), our pass after the multiply and after the add.
    for (const [i, expected] of cpu[0].entries()) {
      expect(Math.abs(wasm[0][i] - expected)).toBeLessThanOrEqual(4e-7 * Math.max(1, Math.abs(values[i])));
    }
  });

  it("gives exactly x * scale + offset in float32 with variance 1 and no epsilon (the model's normalisation)", async () => {
    await useBackend('wasm');
    const values = randomValues(4 * 5 * 3, 25).map((v) => 255 * v);
    const [scale, offset] = [
      [1 / 58.4, 1 / 57.1, 1 / 57.4],
      [-2.1, -2.0, -1.8],
    ];
    const normalised = tf.tidy(() =>
      tf
        .batchNorm(
          tf.tensor(values, [4, 5, 3]),
          tf.zeros([3]),
          tf.ones([3]),
          tf.tensor1d(offset),
          tf.tensor1d(scale),
          0,
        )
        .dataSync(),
    );
    const f = Math.fround;
    expect(Array.from(normalised)).toEqual(
      Array.from(values, (v, i) => f(f(f(v) * f(scale[i % 3])) + f(offset[i % 3]))),
    );
  });

  it("computes a zero mean itself, leaves a nonzero mean and other shapes to wasm's kernel, and frees its intermediates", async () => {
    await useBackend('wasm');
    const [x, zeros, ones, column] = [tf.ones([6, 8]), tf.zeros([8]), tf.ones([8]), tf.ones([6, 1])];
    const { calls } = recordWasmKernelCalls(
      ['FusedBatchNorm'],
      (name, inputs) => `${name} ${inputs.mean.shape} ${inputs.variance.shape}`,
      () => {
        tf.tidy(() => {
          for (const out of [
            tf.batchNorm(x, zeros, ones, zeros, ones),
            tf.batchNorm(x, ones, ones),
            tf.batchNorm(x, column, column),
          ]) {
            out.dataSync();
          }
        });
      },
    );
    expect(calls).toEqual(['FusedBatchNorm 8 8', 'FusedBatchNorm 6,1 6,1']);
    expectNoGrowth(() => tf.tidy(() => tf.batchNorm(x, zeros, ones, zeros, ones).dataSync()));
    tf.dispose([x, zeros, ones, column]);
  });
});

describe('channelOp in our SIMD module', () => {
  const memory = new WebAssembly.Memory({ initial: 1 });
  const kernels = simdKernels({ wasm: { asm: { memory } } });

  it('adds then applies a ReLU as tfjs does (x < 0 ? 0 : x: NaN and -0 kept), vectors and the tail', () => {
    const values = new Float32Array(memory.buffer, 0, 7);
    const pattern = new Float32Array(memory.buffer, 64, 4);
    const out = new Float32Array(memory.buffer, 128, 7);
    values.set([1, -2, Number.NaN, -0, 0.5, -3, 2]);
    pattern.set([0, 1, 0, 0]);
    expect(kernels?.channelOp(values, pattern, out, { op: 'add', relu: true })).toBe(true);
    // -0 + 0 is +0 (IEEE round-to-nearest); -0 survives only where nothing is added to it.
    expect(Array.from(out)).toEqual([1, 0, Number.NaN, 0, 0.5, 0, 2]);
    values.set([-0, -1, 2, 3, -0, 5, -6]);
    expect(kernels?.channelOp(values, pattern, out, { op: 'multiply', relu: true })).toBe(true);
    // toEqual tells -0 from 0: -6 x 0 is -0, which the ReLU keeps.
    expect(Array.from(out)).toEqual([-0, 0, 0, 0, -0, 5, -0]);
  });

  it('channelAffine multiplies then adds, each rounded, over vectors and the tail', () => {
    const values = new Float32Array(memory.buffer, 0, 7);
    const scales = new Float32Array(memory.buffer, 64, 4);
    const offsets = new Float32Array(memory.buffer, 96, 4);
    const out = new Float32Array(memory.buffer, 128, 7);
    values.set([1, -2, 3.3, 0.1, 255, -0, 7]);
    scales.set([0.5, 1 / 3, 2, -1]);
    offsets.set([1, 0.25, -0.5, 0]);
    expect(kernels?.channelAffine(values, scales, offsets, out)).toBe(true);
    const f = Math.fround;
    expect(Array.from(out)).toEqual(Array.from(values, (v, i) => f(f(v * scales[i % 4]) + offsets[i % 4])));
    expect(kernels?.channelAffine(values, scales, new Float32Array(memory.buffer, 96, 3), out)).toBe(false);
    expect(kernels?.channelAffine(values, new Float32Array(4), offsets, out)).toBe(false);
  });

  it('declines a pattern that is not whole vectors, and views of other memory', () => {
    const values = new Float32Array(memory.buffer, 0, 6);
    const out = new Float32Array(memory.buffer, 128, 6);
    expect(
      kernels?.channelOp(values, new Float32Array(memory.buffer, 64, 3), out, { op: 'add', relu: false }),
    ).toBe(false);
    expect(kernels?.channelOp(values, new Float32Array(4), out, { op: 'add', relu: false })).toBe(false);
  });
});
