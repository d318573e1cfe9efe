import * as tf from '@tensorflow/tfjs-core';
import { afterAll, describe, expect, it } from 'vitest';
import { adoptedWasmKernel, adoptWasmKernel } from '../src/wasm-originals.js';
import { conv2DConfig } from '../src/winograd-conv2d.js';
import { expectNoGrowth, maxAbsDifference, onBothBackends, randomValues, useBackend } from './backends.js';

afterAll(async () => {
  await useBackend('cpu');
});

type Pad =
  | 'same'
  | 'valid'
  | number
  | [[number, number], [number, number], [number, number], [number, number]];

// Winograd takes 3x3 stride-1 filters of 32+ input and output channels (multiples of 4) with 150+ output
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
  { x: [4, 10, 10, 32], filter: [3, 3, 32, 32], pad: 'same', winograd: false },
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

describe('Conv2D on wasm', () => {
  it("hands wasm's own kernel only what Winograd does not take, and frees its intermediates", async () => {
    await useBackend('wasm');
    expect(tf.getKernel('Conv2D', 'wasm')!.kernelFunc).toBe(conv2DConfig.kernelFunc);
    const original = adoptedWasmKernel('Conv2D');
    const calls: string[] = [];
    adoptWasmKernel({
      ...original,
      kernelFunc: (args) => {
        calls.push(String((args.inputs.filter as tf.TensorInfo).shape));
        return original.kernelFunc(args);
      },
    });
    try {
      tf.tidy(() => {
        for (const c of CASES) {
          tf.conv2d(
            tf.ones(c.x) as tf.Tensor4D,
            tf.ones(c.filter) as tf.Tensor4D,
            c.stride ?? 1,
            c.pad as never,
          );
        }
      });
    } finally {
      adoptWasmKernel(original);
    }
    expect(calls).toEqual(CASES.filter((c) => !c.winograd).map((c) => String(c.filter)));
    const x = tf.ones([2, 18, 17, 32]) as tf.Tensor4D;
    const filter = tf.ones([3, 3, 32, 32]) as tf.Tensor4D;
    expectNoGrowth(() => tf.conv2d(x, filter, 1, 'same').dispose());
    tf.dispose([x, filter]);
  });
});
