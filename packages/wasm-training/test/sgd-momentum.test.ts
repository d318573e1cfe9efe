import * as tf from '@tensorflow/tfjs-core';
import { afterAll, describe, expect, it } from 'vitest';
import { SgdMomentumStep, sgdMomentumStep } from '../src/sgd-momentum.js';
import { expectNoGrowth, maxAbsDifference, randomValues, useBackend } from './backends.js';

afterAll(async () => {
  await useBackend('cpu');
});

const ATTRS = [
  { learningRate: 0.01, momentum: 0.9, weightDecay: 0 },
  { learningRate: 0.05, momentum: 0.8, weightDecay: 5e-4 },
];

/** Two steps on a fresh variable of `size` values (the second with a non-zero velocity); its value and velocity. */
async function twoSteps(size: number, attrs: (typeof ATTRS)[number]) {
  const variable = tf.variable(tf.tensor1d(randomValues(size, 71)), true, `w${size}`);
  const velocity = tf.variable(tf.zeros([size]), false);
  for (const seed of [72, 73]) {
    const gradient = tf.tensor1d(randomValues(size, seed));
    sgdMomentumStep(variable, velocity, gradient, attrs);
    gradient.dispose();
  }
  const values = [(await variable.data()) as Float32Array, (await velocity.data()) as Float32Array];
  tf.dispose([variable, velocity]);
  return values;
}

/** The same two steps by the formula, one tensor op at a time: the value and the velocity. */
async function twoStepsByFormula(
  size: number,
  { learningRate, momentum, weightDecay }: (typeof ATTRS)[number],
) {
  const [w, v] = tf.tidy(() => {
    let w = tf.tensor1d(randomValues(size, 71));
    let v = tf.zeros([size]);
    for (const seed of [72, 73]) {
      const g = tf.tensor1d(randomValues(size, seed));
      v = tf.add(tf.mul(v, momentum), tf.add(g, tf.mul(w, weightDecay)));
      w = tf.sub(w, tf.mul(v, learningRate));
    }
    return [w, v];
  });
  const values = [(await w.data()) as Float32Array, (await v.data()) as Float32Array];
  tf.dispose([w, v]);
  return values;
}

describe.each(ATTRS)(
  'sgdMomentumStep lr $learningRate momentum $momentum weightDecay $weightDecay',
  (attrs) => {
    it.each([1, 7, 1000])(
      'on wasm gives exactly the float32 values of the formula (%i values)',
      async (size) => {
        await useBackend('wasm');
        const [value, velocity] = await twoSteps(size, attrs);
        const [expectedValue, expectedVelocity] = await twoStepsByFormula(size, attrs);
        expect(Array.from(value)).toEqual(Array.from(expectedValue));
        expect(Array.from(velocity)).toEqual(Array.from(expectedVelocity));
      },
    );

    it('on wasm equals the cpu backend within 1e-6', async () => {
      await useBackend('cpu');
      const cpu = await twoSteps(1001, attrs);
      await useBackend('wasm');
      const wasm = await twoSteps(1001, attrs);
      expect(maxAbsDifference(wasm[0], cpu[0])).toBeLessThan(1e-6);
      expect(maxAbsDifference(wasm[1], cpu[1])).toBeLessThan(1e-6);
    });
  },
);

describe('sgdMomentumStep on wasm', () => {
  it('runs as one kernel and frees every intermediate tensor', async () => {
    await useBackend('wasm');
    const variable = tf.variable(tf.tensor2d(randomValues(60, 1), [6, 10]), true, 'weight');
    const velocity = tf.variable(tf.zeros([6, 10]), false);
    const gradient = tf.tensor2d(randomValues(60, 2), [6, 10]);
    const attrs = ATTRS[1];
    const profile = await tf.profile(() => sgdMomentumStep(variable, velocity, gradient, attrs));
    expect(profile.kernelNames).toEqual([SgdMomentumStep]);
    expectNoGrowth(() => sgdMomentumStep(variable, velocity, gradient, attrs));
    tf.dispose([variable, velocity, gradient]);
  });

  it('names the variable and the shape that do not match', async () => {
    await useBackend('wasm');
    const variable = tf.variable(tf.zeros([2, 3]), true, 'head/kernel');
    const velocity = tf.variable(tf.zeros([2, 3]), false);
    const gradient = tf.zeros([3, 2]);
    expect(() => sgdMomentumStep(variable, velocity, gradient, ATTRS[0])).toThrow(
      "sgdMomentumStep: the gradient of 'head/kernel' is float32 [3,2], expected float32 [2,3]",
    );
    tf.dispose([variable, velocity, gradient]);
  });
});
