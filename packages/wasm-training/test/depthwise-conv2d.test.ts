import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import {
  expectNoGrowth,
  maxAbsDifference,
  onBothBackends,
  randomValues,
  recordWasmKernelCalls,
  useBackend,
} from './backends.js';

interface Case {
  x: [number, number, number, number];
  filter: [number, number, number, number];
  strides: [number, number];
  pad: 'same' | 'valid' | number;
  dilations?: number;
}

// Blocks of 4 channel vectors and single ones (4, 20 = 16 + 4, 36 = 2 x 16 + 4 channels), MobileNet's 3x3
// layers at strides 1 and 2 ('same', padded after only at stride 2), windows that reach past both sides,
// rectangular filters and strides, explicit padding, 'valid'.
const OURS: Case[] = [
  { x: [2, 9, 11, 4], filter: [3, 3, 4, 1], strides: [1, 1], pad: 'same' },
  { x: [2, 10, 10, 20], filter: [3, 3, 20, 1], strides: [2, 2], pad: 'same' },
  { x: [1, 7, 13, 36], filter: [5, 3, 36, 1], strides: [1, 2], pad: 2 },
  { x: [3, 6, 5, 8], filter: [3, 3, 8, 1], strides: [2, 1], pad: 'valid' },
  { x: [1, 3, 4, 16], filter: [5, 5, 16, 1], strides: [1, 1], pad: 'same' },
];

// Channels not a multiple of 4, a channel multiplier of 2, a dilation: wasm's own kernel.
const WASMS: Case[] = [
  { x: [1, 6, 6, 6], filter: [3, 3, 6, 1], strides: [1, 1], pad: 'same' },
  { x: [1, 6, 6, 4], filter: [3, 3, 4, 2], strides: [1, 1], pad: 'same' },
  { x: [1, 8, 8, 4], filter: [3, 3, 4, 1], strides: [1, 1], pad: 'same', dilations: 2 },
];

/** x (values in [-4, 4)), the filter and a bias (in [-2, 2)) of a case: sums past 6 and below 0. */
const tensors = (c: Case) => {
  const size = (shape: number[]) => shape.reduce((a, b) => a * b);
  return {
    x: tf.tensor4d(
      randomValues(size(c.x), 7).map((v) => 4 * v),
      c.x,
    ),
    filter: tf.tensor4d(randomValues(size(c.filter), 8), c.filter),
    bias: tf.tensor1d(randomValues(c.filter[2] * c.filter[3], 9).map((v) => 2 * v)),
  };
};

/** The calls of wasm's own depthwise kernels while `run` runs, and its values. */
function wasmCalls(run: () => tf.Tensor): string[] {
  const { calls, result } = recordWasmKernelCalls(
    ['DepthwiseConv2dNative', 'FusedDepthwiseConv2D'],
    (name) => name,
    () => tf.tidy(() => run().dataSync()),
  );
  expect(result.length).toBeGreaterThan(0);
  return calls;
}

describe('DepthwiseConv2dNative and FusedDepthwiseConv2D on wasm', () => {
  it.each(
    OURS.map((c) => ({ ...c, name: `x ${c.x}, filter ${c.filter}, strides ${c.strides}, pad ${c.pad}` })),
  )("equal cpu without wasm's kernel, with each activation and bias: $name", async (c) => {
    const plain = (t: ReturnType<typeof tensors>) => tf.depthwiseConv2d(t.x, t.filter, c.strides, c.pad);
    const fused = (t: ReturnType<typeof tensors>, activation: 'linear' | 'relu' | 'relu6') =>
      tf.fused.depthwiseConv2d({
        x: t.x,
        filter: t.filter,
        strides: c.strides,
        pad: c.pad,
        bias: t.bias,
        activation,
      });
    const all = () => {
      const t = tensors(c);
      return [plain(t), fused(t, 'linear'), fused(t, 'relu'), fused(t, 'relu6')];
    };
    const { cpu, wasm } = await onBothBackends(all);
    for (const [i, values] of wasm.entries()) expect(maxAbsDifference(values, cpu[i])).toBeLessThan(1e-5);
    // Some values clipped at 0 and at 6.
    expect(cpu[3].some((v) => v === 0) && cpu[3].some((v) => v === 6)).toBe(true);
    const calls = wasmCalls(() => {
      const t = tensors(c);
      return tf.addN([plain(t), fused(t, 'relu6')]);
    });
    expect(calls).toEqual([]);
  });

  it.each(WASMS.map((c) => ({ ...c, name: `x ${c.x}, filter ${c.filter}, dilations ${c.dilations ?? 1}` })))(
    "leave other depthwise convolutions to wasm's kernel, equal to cpu: $name",
    async (c) => {
      const run = () => {
        const t = tensors(c);
        return tf.depthwiseConv2d(t.x, t.filter, c.strides, c.pad, 'NHWC', c.dilations ?? 1);
      };
      const { cpu, wasm } = await onBothBackends(run);
      expect(maxAbsDifference(wasm[0], cpu[0])).toBeLessThan(1e-5);
      expect(wasmCalls(run)).toEqual(['DepthwiseConv2dNative']);
    },
  );

  it("leaves other activations to wasm's fused kernel", async () => {
    await useBackend('wasm');
    const c = OURS[0];
    const calls = wasmCalls(() => {
      const t = tensors(c);
      return tf.fused.depthwiseConv2d({ ...t, strides: c.strides, pad: c.pad, activation: 'elu' });
    });
    expect(calls).toEqual(['FusedDepthwiseConv2D']);
  });

  it('frees every intermediate tensor', async () => {
    await useBackend('wasm');
    const t = tensors(OURS[1]);
    expectNoGrowth(() =>
      tf.dispose(tf.fused.depthwiseConv2d({ ...t, strides: 2, pad: 'same', activation: 'relu6' })),
    );
    tf.dispose(Object.values(t));
  });
});
