import * as tf from '@tensorflow/tfjs-core';
import { afterAll, describe, expect, it } from 'vitest';
import { conv2DConfig, fusedConv2DConfig } from '../src/winograd-conv2d.js';
import {
  expectNoGrowth,
  maxAbsDifference,
  onBothBackends,
  randomValues,
  recordWasmKernelCalls,
  useBackend,
} from './backends.js';

afterAll(async () => {
  await useBackend('cpu');
});

type Pad =
  | 'same'
  | 'valid'
  | number
  | [[number, number], [number, number], [number, number], [number, number]];

// Winograd takes 3x3 stride-1 filters of 32+ input and output channels (multiples of 4) with 40+ output
// tiles of 2x2: even and odd sizes (a last tile half outside), every padding; the rest goes to wasm's own
// kernel.
type Shape4 = [number, number, number, number];
const CASES: Array<{ x: Shape4; filter: Shape4; pad: Pad; stride?: number; winograd: boolean }> = [
  { x: [2, 18, 17, 32], filter: [3, 3, 32, 32], pad: 'same', winograd: true },
  { x: [1, 25, 24, 36], filter: [3, 3, 36, 40], pad: 'same', winograd: true },
  { x: [2, 20, 19, 32], filter: [3, 3, 32, 44], pad: 'valid', winograd: true },
  { x: [1, 26, 24, 32], filter: [3, 3, 32, 32], pad: 1, winograd: true },
  {
    x: [1, 25, 25, 32],
    filter: [3, 3, 32, 32],
    pad: [
      [0, 0],
      [0, 1],
      [2, 0],
      [0, 0],
    ],
    winograd: true,
  },
  { x: [4, 10, 10, 32], filter: [3, 3, 32, 32], pad: 'same', winograd: true },
  { x: [2, 7, 8, 32], filter: [3, 3, 32, 32], pad: 'same', winograd: false },
  { x: [2, 18, 18, 3], filter: [3, 3, 3, 32], pad: 'same', winograd: false },
  { x: [2, 18, 18, 32], filter: [3, 3, 32, 32], pad: 'same', stride: 2, winograd: false },
  { x: [2, 18, 18, 32], filter: [1, 1, 32, 32], pad: 'same', winograd: false },
  { x: [2, 18, 18, 16], filter: [3, 3, 16, 16], pad: 'same', winograd: false },
];

describe.each(CASES)('Conv2D x $x filter $filter pad $pad', (c) => {
  it(`equals cpu within 1e-4 (${c.winograd ? 'Winograd' : "wasm's own kernel"})`, async () => {
    const size = (shape: number[]) => shape.reduce((p, d) => p * d, 1);
    const xValues = randomValues(size(c.x), 81);
    const filterValues = randomValues(size(c.filter), 82);
    const { cpu, wasm } = await onBothBackends(() =>
      tf.conv2d(
        tf.tensor4d(xValues, c.x),
        tf.tensor4d(filterValues, c.filter),
        c.stride ?? 1,
        c.pad as never,
      ),
    );
    expect(maxAbsDifference(wasm[0], cpu[0])).toBeLessThan(1e-4);
  });
});

describe.each(CASES.filter((c) => c.winograd))('FusedConv2D x $x filter $filter pad $pad', (c) => {
  it.each(['relu', 'relu6', 'linear'] as const)(
    'with a bias and %s equals cpu within 1e-4',
    async (activation) => {
      const size = (shape: number[]) => shape.reduce((p, d) => p * d, 1);
      const { cpu, wasm } = await onBothBackends(() =>
        tf.fused.conv2d({
          x: tf.tensor4d(randomValues(size(c.x), 83), c.x),
          filter: tf.tensor4d(randomValues(size(c.filter), 84), c.filter),
          strides: 1,
          pad: c.pad as never,
          bias: tf.tensor1d(randomValues(c.filter[3], 85)),
          activation,
        }),
      );
      expect(maxAbsDifference(wasm[0], cpu[0])).toBeLessThan(1e-4);
    },
  );
});

describe('Conv2D and FusedConv2D on wasm', () => {
  it("hand wasm's own kernels only what Winograd does not take, and free their intermediates", async () => {
    await useBackend('wasm');
    expect(tf.getKernel('Conv2D', 'wasm')!.kernelFunc).toBe(conv2DConfig.kernelFunc);
    expect(tf.getKernel('FusedConv2D', 'wasm')!.kernelFunc).toBe(fusedConv2DConfig.kernelFunc);
    const describe = (name: string, inputs: Record<string, tf.TensorInfo>) =>
      `${name} ${inputs.filter.shape}`;
    const { calls } = recordWasmKernelCalls(['Conv2D', 'FusedConv2D'], describe, () =>
      tf.tidy(() => {
        for (const c of CASES) {
          const [x, filter] = [tf.ones(c.x) as tf.Tensor4D, tf.ones(c.filter) as tf.Tensor4D];
          tf.conv2d(x, filter, c.stride ?? 1, c.pad as never);
          tf.fused.conv2d({ x, filter, strides: c.stride ?? 1, pad: c.pad as never, activation: 'relu' });
        }
      }),
    );
    const direct = CASES.filter((c) => !c.winograd);
    expect(calls).toEqual(direct.flatMap((c) => [`Conv2D ${c.filter}`, `FusedConv2D ${c.filter}`]));
    const x = tf.ones([2, 18, 17, 32]) as tf.Tensor4D;
    const filter = tf.ones([3, 3, 32, 32]) as tf.Tensor4D;
    const bias = tf.ones([32]);
    expectNoGrowth(() => {
      tf.conv2d(x, filter, 1, 'same').dispose();
      tf.fused.conv2d({ x, filter, bias, strides: 1, pad: 'same', activation: 'relu' }).dispose();
    });
    tf.dispose([x, filter, bias]);
  });
});
