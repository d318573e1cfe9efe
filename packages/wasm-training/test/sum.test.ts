import * as tf from '@tensorflow/tfjs-core';
import { afterAll, describe, expect, it } from 'vitest';
import { randomValues, useBackend } from './backends.js';

afterAll(async () => {
  await useBackend('cpu');
});

/** tf.sum on `backend`: values and shape. */
async function sumOn(
  backend: string,
  values: Float32Array | Int32Array,
  shape: number[],
  axis: number | number[] | undefined,
  keepDims: boolean,
): Promise<{ values: number[]; shape: number[] }> {
  await useBackend(backend);
  const x = tf.tensor(values, shape);
  const out = tf.sum(x, axis, keepDims);
  const result = { values: Array.from(await out.data()), shape: out.shape };
  tf.dispose([x, out]);
  return result;
}

const SHAPE = [4, 5, 6, 7];
const CASES: Array<{ axis: number | number[] | undefined; keepDims: boolean }> = [
  { axis: [0, 1, 2], keepDims: false }, // a bias gradient
  { axis: [2, 0, 1], keepDims: true },
  { axis: 0, keepDims: false },
  { axis: -4, keepDims: false },
  { axis: undefined, keepDims: false }, // every axis
  { axis: [0, 1, 2, 3], keepDims: true },
  { axis: 3, keepDims: false }, // innermost: wasm's own kernel
  { axis: [1, 2], keepDims: true }, // neither: wasm's own kernel
];

// Columns by fours and one by one, rows in pairs and an odd last one.
const WIDTHS: Array<{ shape: number[]; axis: number[] }> = [
  { shape: [3, 5, 8], axis: [0, 1] },
  { shape: [2, 7, 9], axis: [0, 1] },
  { shape: [6, 3], axis: [0] },
];

describe('Sum on wasm', () => {
  it.each(CASES)('equals cpu for axis $axis, keepDims $keepDims', async ({ axis, keepDims }) => {
    const values = randomValues(4 * 5 * 6 * 7, 3);
    const cpu = await sumOn('cpu', values, SHAPE, axis, keepDims);
    const wasm = await sumOn('wasm', values, SHAPE, axis, keepDims);
    expect(wasm.shape).toEqual(cpu.shape);
    expect(Math.max(...wasm.values.map((v, k) => Math.abs(v - cpu.values[k])))).toBeLessThan(1e-5);
  });

  it.each(WIDTHS)('equals cpu over the leading axes of $shape', async ({ shape, axis }) => {
    const values = randomValues(
      shape.reduce((a, b) => a * b),
      5,
    );
    const cpu = await sumOn('cpu', values, shape, axis, false);
    const wasm = await sumOn('wasm', values, shape, axis, false);
    expect(Math.max(...wasm.values.map((v, k) => Math.abs(v - cpu.values[k])))).toBeLessThan(1e-5);
  });

  it.each([2, 4, 5])('adds in double precision over leading axes, like cpu (%i columns)', async (width) => {
    // 2^24 then a thousand ones: float32 totals stay at 2^24 (each +1 rounds back to it).
    const rows = 1001;
    const values = new Float32Array(rows * width).fill(1);
    values.fill(2 ** 24, 0, width);
    for (const backend of ['cpu', 'wasm']) {
      const { values: total } = await sumOn(backend, values, [rows, width], 0, false);
      expect(total).toEqual(Array(width).fill(2 ** 24 + 1000));
    }
  });

  it('sums int32 tensors through wasm own kernel', async () => {
    const values = Int32Array.from({ length: 24 }, (_, k) => k - 7);
    const cpu = await sumOn('cpu', values, [2, 3, 4], [0, 1], false);
    const wasm = await sumOn('wasm', values, [2, 3, 4], [0, 1], false);
    expect(wasm).toEqual(cpu);
  });

  it('leaves no tensor behind over repeated calls', async () => {
    await useBackend('wasm');
    const x = tf.randomNormal([3, 4, 5]);
    const run = () => tf.sum(x, [0, 1]).dispose();
    run();
    const before = tf.memory().numTensors;
    const dataIds = tf.engine().backend.numDataIds();
    for (let i = 0; i < 5; i++) run();
    expect(tf.memory().numTensors).toBe(before);
    expect(tf.engine().backend.numDataIds()).toBe(dataIds);
    x.dispose();
  });
});
