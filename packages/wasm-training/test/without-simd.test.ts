import * as tf from '@tensorflow/tfjs-core';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { ReluGradient } from '../src/relu-gradient.js';
import { SgdMomentumStep, sgdMomentumStep } from '../src/sgd-momentum.js';
import { maxAbsDifference, randomValues, useBackend } from './backends.js';
import {
  CONV_CASES,
  convolutionGradients,
  DEPTHWISE_CASES,
  TOLERANCE,
  toleranceOf,
} from './gradient-cases.js';

// Where our SIMD module cannot run (tfjs-backend-wasm's build without SIMD), the kernels take their
// other paths: wasm's depthwise convolution for the depthwise filter gradient, JS loops for transposes,
// wasm's product for few rows, tensor ops for the SGD step, a JS loop for bias gradients' sums.
vi.mock('../src/simd-kernels.js', () => ({ simdKernels: () => null }));

afterAll(async () => {
  await useBackend('cpu');
});

describe('without the SIMD module', () => {
  it.each(DEPTHWISE_CASES)('depthwise gradients of $name equal cpu within 1e-4', async (c) => {
    const { cpu, wasm } = await convolutionGradients(c, true);
    expect(maxAbsDifference(wasm[0], cpu[0])).toBeLessThan(TOLERANCE);
    expect(maxAbsDifference(wasm[1], cpu[1])).toBeLessThan(TOLERANCE);
  });

  it.each(CONV_CASES)(
    'conv gradients of $name (transposes in JS) equal cpu within the tolerance',
    async (c) => {
      const { cpu, wasm } = await convolutionGradients(c);
      expect(maxAbsDifference(wasm[0], cpu[0])).toBeLessThan(toleranceOf(c));
      expect(maxAbsDifference(wasm[1], cpu[1])).toBeLessThan(toleranceOf(c));
    },
  );
});

describe('sgdMomentumStep without the SIMD module', () => {
  it('takes tensor ops on wasm, with the values of cpu', async () => {
    const run = async (backend: string) => {
      await useBackend(backend);
      const variable = tf.variable(tf.tensor1d(randomValues(37, 1)), true, `w-${backend}`);
      const velocity = tf.variable(tf.tensor1d(randomValues(37, 2)), false);
      const gradient = tf.tensor1d(randomValues(37, 3));
      const attrs = { learningRate: 0.1, momentum: 0.9, weightDecay: 1e-3 };
      const profile = await tf.profile(() => sgdMomentumStep(variable, velocity, gradient, attrs));
      const values = [(await variable.data()) as Float32Array, (await velocity.data()) as Float32Array];
      tf.dispose([variable, velocity, gradient]);
      return { values, kernels: profile.kernelNames };
    };
    const cpu = await run('cpu');
    const wasm = await run('wasm');
    expect(wasm.kernels).not.toContain(SgdMomentumStep);
    expect(maxAbsDifference(wasm.values[0], cpu.values[0])).toBeLessThan(1e-6);
    expect(maxAbsDifference(wasm.values[1], cpu.values[1])).toBeLessThan(1e-6);
  });
});

describe(`${ReluGradient} without the SIMD module`, () => {
  it('computes in a loop here the values of its tensor ops on cpu, with and without a cap', async () => {
    const [dy, y] = [randomValues(45, 5), randomValues(45, 6).map((v) => 8 * v)];
    await useBackend('cpu');
    const onCpu = tf.tidy(() => {
      const [d, x] = [tf.tensor(dy), tf.tensor(y)];
      return [tf.mul(d, tf.step(x)), tf.mul(d, tf.sub(tf.step(x), tf.step(tf.sub(x, 6))))].map((t) =>
        Array.from(t.dataSync()),
      );
    });
    await useBackend('wasm');
    const onWasm = ([{}, { cap: 6 }] as tf.NamedAttrMap[]).map((attrs) =>
      tf.tidy(() =>
        Array.from(
          (
            tf.engine().runKernel(ReluGradient, { dy: tf.tensor(dy), y: tf.tensor(y) }, attrs) as tf.Tensor
          ).dataSync(),
        ),
      ),
    );
    expect(onWasm).toEqual(onCpu);
  });
});

describe('Sum over leading axes without the SIMD module', () => {
  it('adds in a JS loop in float64, with the values of cpu', async () => {
    const values = randomValues(1001 * 7, 4);
    values.fill(2 ** 24, 0, 7);
    const run = async (backend: string) => {
      await useBackend(backend);
      const x = tf.tensor2d(values, [1001, 7]);
      const total = (await tf.sum(x, 0).data()) as Float32Array;
      x.dispose();
      return total;
    };
    const cpu = await run('cpu');
    expect(maxAbsDifference(await run('wasm'), cpu)).toBeLessThan(1e-6);
  });
});

describe('FusedBatchNorm without the SIMD module', () => {
  it("takes wasm's own kernel, with the values of cpu", async () => {
    const values = randomValues(5 * 7 * 3, 4).map((v) => 255 * v);
    const normalise = () =>
      tf.tidy(() =>
        tf
          .batchNorm(
            tf.tensor(values, [5, 7, 3]),
            tf.zeros([3]),
            tf.ones([3]),
            tf.tensor1d([-2, -1, 0.5]),
            tf.tensor1d([0.02, 0.01, 0.03]),
            0,
          )
          .dataSync(),
      );
    await useBackend('wasm');
    const onWasm = normalise();
    await useBackend('cpu');
    expect(maxAbsDifference(onWasm as Float32Array, normalise() as Float32Array)).toBeLessThan(1e-5);
  });
});
