import * as tf from '@tensorflow/tfjs-core';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { convGeometry } from '../src/conv-geometry.js';
import { conv2DConfig, fusedConv2DConfig } from '../src/conv2d.js';
import { setWindowMatrixBudget } from '../src/im2col.js';
import { packedProduct } from '../src/packed-product.js';
import { simdKernels } from '../src/simd-kernels.js';
import { wasmMemoryOf } from '../src/wasm-heap.js';
import { WasmKernelScope } from '../src/wasm-kernel-scope.js';
import { tileChunks, winogradConvolve, winogradTileSize } from '../src/winograd-conv2d.js';
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

// Winograd takes 3x3 stride-1 filters of 32+ input and output channels (multiples of 4): F(2x2, 3x3) from
// 40 output tiles of 2x2, F(4x4, 3x3) from 128 tiles of 4x4 (even and odd sizes, last tiles partly outside,
// every padding). 1x1 filters without padding are a product (at stride s of every s-th pixel) where our
// packed product takes it (from 32 output pixels on this, the single-threaded, build), or at stride 1 of
// 256 x 256 values or more; windowed ones of few channels (at most 2048 channel pairs, outputs a multiple of
// 8, outputs 4+ wide, a fresh filter) straight from x (groups of 4 positions and a last partial one, border
// positions with taps in the padding, every padding and stride); strided ones of 64+ outputs go as a window
// matrix times the filter (any channel count, every padding, windows partly or wholly outside); the rest
// goes to wasm's own kernel.
type Shape4 = [number, number, number, number];
type Route =
  | 'F(2x2)'
  | 'F(4x4)'
  | 'F(2x2, 7x7)'
  | 'F(2x2, 5x5)'
  | '1x1 product'
  | 'window matrix'
  | 'direct'
  | "wasm's own kernel";
const ASYMMETRIC: Pad = [
  [0, 0],
  [0, 1],
  [2, 0],
  [0, 0],
];
const CASES: Array<{ x: Shape4; filter: Shape4; pad: Pad; stride?: number; route: Route }> = [
  { x: [2, 18, 17, 32], filter: [3, 3, 32, 32], pad: 'same', route: 'F(2x2)' },
  { x: [1, 25, 24, 36], filter: [3, 3, 36, 40], pad: 'same', route: 'F(2x2)' },
  { x: [2, 20, 19, 32], filter: [3, 3, 32, 44], pad: 'valid', route: 'F(2x2)' },
  { x: [1, 26, 24, 32], filter: [3, 3, 32, 32], pad: 1, route: 'F(2x2)' },
  { x: [1, 25, 25, 32], filter: [3, 3, 32, 32], pad: ASYMMETRIC, route: 'F(2x2)' },
  { x: [4, 10, 10, 32], filter: [3, 3, 32, 32], pad: 'same', route: 'F(2x2)' },
  { x: [2, 34, 33, 32], filter: [3, 3, 32, 32], pad: 'same', route: 'F(4x4)' },
  { x: [1, 50, 47, 32], filter: [3, 3, 32, 36], pad: 'valid', route: 'F(4x4)' },
  { x: [2, 35, 32, 36], filter: [3, 3, 36, 32], pad: 1, route: 'F(4x4)' },
  { x: [1, 49, 45, 32], filter: [3, 3, 32, 32], pad: ASYMMETRIC, route: 'F(4x4)' },
  { x: [2, 7, 8, 32], filter: [3, 3, 32, 32], pad: 'same', route: 'direct' },
  { x: [2, 7, 4, 32], filter: [3, 3, 32, 32], pad: 'same', route: 'direct' },
  { x: [2, 7, 3, 32], filter: [3, 3, 32, 32], pad: 'same', route: "wasm's own kernel" },
  { x: [2, 18, 18, 3], filter: [3, 3, 3, 32], pad: 'same', route: 'direct' },
  { x: [2, 18, 18, 32], filter: [3, 3, 32, 32], pad: 'same', stride: 2, route: 'direct' },
  { x: [2, 17, 16, 3], filter: [3, 3, 3, 16], pad: ASYMMETRIC, stride: 2, route: 'direct' },
  { x: [1, 12, 13, 5], filter: [5, 5, 5, 24], pad: 2, route: 'direct' },
  { x: [2, 30, 29, 4], filter: [3, 3, 4, 8], pad: 'valid', stride: 3, route: 'direct' },
  { x: [2, 18, 18, 48], filter: [3, 3, 48, 48], pad: 'same', stride: 2, route: "wasm's own kernel" },
  { x: [2, 6, 5, 256], filter: [1, 1, 256, 256], pad: 'same', route: '1x1 product' },
  { x: [1, 5, 3, 260], filter: [1, 1, 260, 253], pad: 'valid', route: '1x1 product' },
  { x: [2, 18, 18, 32], filter: [1, 1, 32, 32], pad: 'same', route: '1x1 product' },
  { x: [1, 5, 6, 32], filter: [1, 1, 32, 32], pad: 'same', route: "wasm's own kernel" },
  { x: [2, 9, 7, 8], filter: [1, 1, 8, 4], pad: 1, route: "wasm's own kernel" },
  { x: [2, 9, 7, 8], filter: [1, 1, 8, 4], pad: 'same', stride: 2, route: '1x1 product' },
  { x: [2, 17, 18, 32], filter: [1, 1, 32, 36], pad: 'valid', stride: 2, route: '1x1 product' },
  { x: [1, 9, 7, 8], filter: [1, 1, 8, 4], pad: 'same', stride: 2, route: "wasm's own kernel" },
  { x: [2, 18, 18, 16], filter: [3, 3, 16, 16], pad: 'same', route: 'direct' },
  { x: [2, 18, 17, 12], filter: [3, 3, 12, 64], pad: 'same', stride: 2, route: 'direct' },
  { x: [2, 18, 17, 40], filter: [3, 3, 40, 64], pad: 'same', stride: 2, route: 'window matrix' },
  { x: [2, 16, 16, 8], filter: [3, 3, 8, 64], pad: 'valid', stride: 2, route: 'direct' },
  { x: [2, 16, 7, 8], filter: [3, 3, 8, 64], pad: 'valid', stride: 2, route: 'window matrix' },
  { x: [1, 15, 14, 4], filter: [3, 3, 4, 68], pad: ASYMMETRIC, stride: 2, route: 'window matrix' },
  { x: [1, 23, 21, 3], filter: [7, 7, 3, 64], pad: 3, stride: 2, route: 'direct' },
  { x: [1, 13, 13, 3], filter: [7, 7, 3, 64], pad: 3, stride: 2, route: 'direct' },
  { x: [4, 13, 5, 3], filter: [7, 7, 3, 64], pad: 3, stride: 2, route: 'window matrix' },
  { x: [2, 16, 17, 5], filter: [5, 5, 5, 64], pad: 'same', stride: 3, route: 'direct' },
  { x: [2, 16, 8, 5], filter: [5, 5, 5, 64], pad: 'same', stride: 3, route: 'window matrix' },
];

// 7s x 7s stride-1 filters of 32+ channels (multiples of 4) by F(2x2, 7x7) from 32 output tiles of 2x2 (a
// 14x14 filter as four 7x7 parts), 5s x 5s ones by F(2x2, 5x5) (10x10: four 5x5 parts); fewer tiles, fewer
// channels, strides, dilations and other sizes go to wasm's own kernel.
const LARGE_FILTER_CASES: Array<{ x: Shape4; filter: Shape4; pad: Pad; stride?: number; route: Route }> = [
  { x: [1, 20, 19, 32], filter: [7, 7, 32, 36], pad: 'valid', route: 'F(2x2, 7x7)' },
  { x: [2, 15, 16, 32], filter: [7, 7, 32, 32], pad: 'same', route: 'F(2x2, 7x7)' },
  { x: [1, 17, 18, 36], filter: [7, 7, 36, 32], pad: ASYMMETRIC, route: 'F(2x2, 7x7)' },
  { x: [1, 26, 24, 32], filter: [14, 14, 32, 40], pad: 'valid', route: 'F(2x2, 7x7)' },
  { x: [2, 12, 11, 32], filter: [14, 14, 32, 32], pad: 'same', route: 'F(2x2, 7x7)' },
  { x: [1, 13, 13, 32], filter: [7, 7, 32, 32], pad: 'valid', route: 'direct' },
  { x: [1, 13, 9, 32], filter: [7, 7, 32, 32], pad: 'valid', route: "wasm's own kernel" },
  { x: [1, 20, 19, 16], filter: [7, 7, 16, 32], pad: 'valid', route: 'direct' },
  { x: [1, 40, 40, 32], filter: [7, 7, 32, 32], pad: 'same', stride: 2, route: 'direct' },
  { x: [1, 40, 40, 48], filter: [7, 7, 48, 48], pad: 'same', stride: 2, route: "wasm's own kernel" },
  { x: [1, 20, 19, 32], filter: [5, 5, 32, 36], pad: 'valid', route: 'F(2x2, 5x5)' },
  { x: [1, 24, 24, 32], filter: [10, 10, 32, 32], pad: 'valid', route: 'F(2x2, 5x5)' },
  { x: [2, 14, 13, 36], filter: [10, 10, 36, 32], pad: 'same', route: 'F(2x2, 5x5)' },
  { x: [1, 24, 24, 32], filter: [6, 6, 32, 32], pad: 'valid', route: 'direct' },
  { x: [1, 24, 24, 48], filter: [6, 6, 48, 48], pad: 'valid', route: "wasm's own kernel" },
];

const tileSizeOf = (c: (typeof CASES)[number]) =>
  winogradTileSize(
    { dtype: 'float32', shape: c.x } as unknown as tf.TensorInfo,
    c.filter,
    'NHWC',
    convGeometry('Conv2D', c.x, c.filter, c.stride ?? 1, 1, c.pad as never, undefined, false),
    'fresh filter',
  );
const TILE_SIZES: Record<Route, 2 | 4 | null> = {
  'F(2x2)': 2,
  'F(4x4)': 4,
  'F(2x2, 7x7)': null,
  'F(2x2, 5x5)': null,
  '1x1 product': null,
  'window matrix': null,
  direct: null,
  "wasm's own kernel": null,
};

describe.each(CASES)('Conv2D x $x filter $filter pad $pad', (c) => {
  it(`equals cpu within 1e-4 (${c.route})`, async () => {
    if (c.stride === undefined) expect(tileSizeOf(c)).toBe(TILE_SIZES[c.route]);
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

/** `tf.fused.conv2d` of a stride-1 case with a bias and `activation`, on cpu and wasm, from values seeded at `seed`. */
function fusedOnBothBackends(
  c: (typeof CASES)[number],
  activation: 'relu' | 'relu6' | 'linear',
  seed: number,
) {
  const size = (shape: number[]) => shape.reduce((p, d) => p * d, 1);
  return onBothBackends(() =>
    tf.fused.conv2d({
      x: tf.tensor4d(randomValues(size(c.x), seed), c.x),
      filter: tf.tensor4d(randomValues(size(c.filter), seed + 1), c.filter),
      strides: 1,
      pad: c.pad as never,
      bias: tf.tensor1d(randomValues(c.filter[3], seed + 2)),
      activation,
    }),
  );
}

describe.each(CASES.filter((c) => c.route !== "wasm's own kernel"))(
  'FusedConv2D x $x filter $filter pad $pad',
  (c) => {
    it.each(['relu', 'relu6', 'linear'] as const)(
      'with a bias and %s equals cpu within 1e-4',
      async (activation) => {
        const { cpu, wasm } = await fusedOnBothBackends(c, activation, 83);
        expect(maxAbsDifference(wasm[0], cpu[0])).toBeLessThan(1e-4);
      },
    );
  },
);

// F(4x4)'s output transform amplifies the rounding of its products by up to 8 x 8 (A^T's largest entry,
// squared), so its float32 error grows with the layer: 4-6e-5 on the 32-36 channels above (F(2x2) 1.2-1.7e-5),
// 2.1e-4 and 3.2e-4 on these (4e-6 of their largest output, about 10x the rounding of a direct float32
// convolution). Held to 1e-5 of the largest output here; every other kernel stays within 1e-4 absolute.
describe.each([
  { x: [2, 34, 34, 128], filter: [3, 3, 128, 128] },
  { x: [2, 30, 30, 256], filter: [3, 3, 256, 64] },
] as Array<{ x: Shape4; filter: Shape4 }>)('Conv2D x $x filter $filter (F(4x4) at scale)', (c) => {
  it('equals cpu within 1e-5 of the largest output', async () => {
    expect(tileSizeOf({ ...c, pad: 'same', route: 'F(4x4)' })).toBe(4);
    const size = (shape: number[]) => shape.reduce((p, d) => p * d, 1);
    const { cpu, wasm } = await onBothBackends(() =>
      tf.conv2d(
        tf.tensor4d(randomValues(size(c.x), 86), c.x),
        tf.tensor4d(randomValues(size(c.filter), 87), c.filter),
        1,
        'same',
      ),
    );
    const largest = cpu[0].reduce((worst, v) => Math.max(worst, Math.abs(v)), 0);
    expect(maxAbsDifference(wasm[0], cpu[0]) / largest).toBeLessThan(1e-5);
  });
});

// F(2x2, 7x7)'s 8x8 transforms amplify float32 rounding more than F(4x4, 3x3)'s: 4-7e-6 of the largest
// output on 32-64 channels, 1.5e-5 on a 14x14 filter of 128 channels (a numpy model of the same transforms:
// 7.5e-6 at 128 channels, 33x a direct float32 convolution's; no other interpolation points do better);
// F(2x2, 5x5)'s about a quarter of that. Held to 2e-5 of the largest output: these convolutions are the
// heads' linears at inference.
const LARGE_FILTER_BOUND = 2e-5;
const relativeDifference = (wasm: Float32Array, cpu: Float32Array) =>
  maxAbsDifference(wasm, cpu) / cpu.reduce((worst, v) => Math.max(worst, Math.abs(v)), 0);

describe.each(LARGE_FILTER_CASES)('Conv2D x $x filter $filter pad $pad ($route)', (c) => {
  const size = (shape: number[]) => shape.reduce((p, d) => p * d, 1);
  it(`equals cpu within ${LARGE_FILTER_BOUND} of the largest output, the filter's first and later uses`, async () => {
    const xValues = randomValues(size(c.x), 91);
    const filterValues = randomValues(size(c.filter), 92);
    const { cpu, wasm } = await onBothBackends(() => {
      const [x, filter] = [tf.tensor4d(xValues, c.x), tf.tensor4d(filterValues, c.filter)];
      return [1, 2].map(() => tf.conv2d(x, filter, c.stride ?? 1, c.pad as never));
    });
    for (const output of wasm) expect(relativeDifference(output, cpu[0])).toBeLessThan(LARGE_FILTER_BOUND);
  });

  it.runIf(c.route !== "wasm's own kernel")('with a bias and relu equals cpu the same way', async () => {
    const { cpu, wasm } = await fusedOnBothBackends(c, 'relu', 93);
    expect(relativeDifference(wasm[0], cpu[0])).toBeLessThan(LARGE_FILTER_BOUND);
  });
});

// 1x1 at strides 1 and 2 (a product through the planned BatchMatMul) and a 3x3 stride-2 window matrix, with
// 68 or 70 outputs (an edge panel of the product's 8 columns), at batch 2.
const EPILOGUE_CASES = [
  { x: [2, 20, 20, 64] as Shape4, filter: [1, 1, 64, 70] as Shape4, stride: 1 },
  { x: [2, 20, 20, 64] as Shape4, filter: [1, 1, 64, 68] as Shape4, stride: 2 },
  { x: [2, 17, 16, 8] as Shape4, filter: [3, 3, 8, 68] as Shape4, stride: 2 },
  // Straight from x, fresh and known (20M multiply-adds).
  { x: [2, 66, 64, 3] as Shape4, filter: [7, 7, 3, 64] as Shape4, stride: 2 },
];

describe.each(EPILOGUE_CASES)(
  "FusedConv2D x $x filter $filter stride $stride: bias and ReLU or ReLU6 in our product's stores",
  (c) => {
    it.each(['relu', 'relu6', 'linear'] as const)(
      '%s: equals cpu within 1e-4 with a fresh filter and a known one, no pass after the product',
      async (activation) => {
        const size = (shape: number[]) => shape.reduce((p, d) => p * d, 1);
        const [xValues, filterValues] = [randomValues(size(c.x), 61), randomValues(size(c.filter), 62)];
        const biasValues = randomValues(c.filter[3], 63);
        const layer = () =>
          tf.tidy(() => {
            const [x, filter] = [tf.tensor4d(xValues, c.x), tf.tensor4d(filterValues, c.filter)];
            const bias = tf.tensor1d(biasValues);
            return [1, 2].map(() =>
              tf.fused.conv2d({ x, filter, bias, strides: c.stride, pad: 'same', activation }),
            );
          });
        const { cpu } = await onBothBackends(() => layer()[0]);
        // ReLU6 clips at both ends here.
        if (activation === 'relu6') expect([cpu[0].includes(0), cpu[0].includes(6)]).toEqual([true, true]);
        const simd = simdKernels(tf.engine().backend)!;
        const channelOp = vi.spyOn(simd, 'channelOp');
        const activations = ['Relu', 'Relu6'].map((name) =>
          vi.spyOn(tf.getKernel(name, 'wasm')!, 'kernelFunc'),
        );
        try {
          const { calls, result } = recordWasmKernelCalls(['Add'], (name) => name, layer);
          expect(calls).toEqual([]);
          expect(channelOp).not.toHaveBeenCalled();
          for (const spy of activations) expect(spy).not.toHaveBeenCalled();
          for (const output of result) {
            expect(maxAbsDifference((await output.data()) as Float32Array, cpu[0])).toBeLessThan(1e-4);
          }
          tf.dispose(result);
        } finally {
          channelOp.mockRestore();
          for (const spy of activations) spy.mockRestore();
        }
      },
    );
  },
);

describe('Conv2D by window matrices', () => {
  it('computes by chunks of output positions within a small budget, equal to cpu', async () => {
    const c = { x: [2, 17, 16, 8] as Shape4, filter: [3, 3, 8, 64] as Shape4 };
    const size = (shape: number[]) => shape.reduce((p, d) => p * d, 1);
    const [xValues, filterValues] = [randomValues(size(c.x), 84), randomValues(size(c.filter), 85)];
    const convolve = () =>
      tf.conv2d(tf.tensor4d(xValues, c.x), tf.tensor4d(filterValues, c.filter), 2, 'same');
    // 3 x 3 x 8 = 72 values a window: 40 output positions a chunk, the last of 24 (2 x 9 x 8 = 144).
    const budget = setWindowMatrixBudget(72 * 40);
    try {
      const { cpu, wasm } = await onBothBackends(convolve);
      expect(maxAbsDifference(wasm[0], cpu[0])).toBeLessThan(1e-4);
    } finally {
      setWindowMatrixBudget(budget);
    }
  });
});

describe('Conv2D and FusedConv2D on wasm', () => {
  it("hand wasm's own kernels only what our forms do not take, and free their intermediates", async () => {
    await useBackend('wasm');
    expect(tf.getKernel('Conv2D', 'wasm')!.kernelFunc).toBe(conv2DConfig.kernelFunc);
    expect(tf.getKernel('FusedConv2D', 'wasm')!.kernelFunc).toBe(fusedConv2DConfig.kernelFunc);
    const describe = (name: string, inputs: Record<string, tf.TensorInfo>) =>
      `${name} ${inputs.filter.shape}`;
    const { calls } = recordWasmKernelCalls(['Conv2D', 'FusedConv2D'], describe, () =>
      tf.tidy(() => {
        for (const c of [...CASES, ...LARGE_FILTER_CASES]) {
          const x = tf.ones(c.x) as tf.Tensor4D;
          const [filter, another] = [tf.ones(c.filter) as tf.Tensor4D, tf.ones(c.filter) as tf.Tensor4D];
          tf.conv2d(x, filter, c.stride ?? 1, c.pad as never);
          tf.fused.conv2d({
            x,
            filter: another,
            strides: c.stride ?? 1,
            pad: c.pad as never,
            activation: 'relu',
          });
        }
      }),
    );
    const toWasm = [...CASES, ...LARGE_FILTER_CASES].filter((c) => c.route === "wasm's own kernel");
    expect(calls).toEqual(toWasm.flatMap((c) => [`Conv2D ${c.filter}`, `FusedConv2D ${c.filter}`]));
    // A filter seen again (a layer at inference) is packed already for wasm's own kernel, which then takes
    // 1x1 convolutions of fewer than 32 pixels (from 32 our packed product, which keeps its own packing:
    // this is the single-threaded build); a 3x3 one keeps its Winograd transform and goes to Winograd at
    // any size; one that the direct form takes when fresh goes to wasm's own kernel, which keeps its packing.
    const x = tf.ones([2, 18, 17, 32]) as tf.Tensor4D;
    const known = [
      tf.ones([1, 1, 256, 256]),
      tf.ones([3, 3, 32, 32]),
      tf.ones([3, 3, 3, 32]),
    ] as tf.Tensor4D[];
    const again = recordWasmKernelCalls(['Conv2D'], describe, () =>
      tf.tidy(() => {
        for (let call = 0; call < 3; call++) {
          tf.conv2d(tf.ones([1, 6, 5, 256]) as tf.Tensor4D, known[0], 1, 'valid');
          tf.conv2d(tf.ones([2, 6, 5, 256]) as tf.Tensor4D, known[0], 1, 'valid');
          tf.conv2d(x, known[1], 1, 'valid'); // 128 tiles of 2x2
          tf.conv2d(tf.ones([4, 18, 17, 32]) as tf.Tensor4D, known[1], 1, 'same'); // 324 tiles
          tf.conv2d(tf.ones([1, 7, 8, 32]) as tf.Tensor4D, known[1], 1, 'same'); // 16 tiles
          tf.conv2d(tf.ones([2, 18, 18, 3]) as tf.Tensor4D, known[2], 1, 'same'); // direct when fresh
        }
      }),
    );
    expect(again.calls).toEqual([
      'Conv2D 1,1,256,256',
      'Conv2D 3,3,3,32',
      'Conv2D 1,1,256,256',
      'Conv2D 3,3,3,32',
    ]);
    const filter = tf.ones([3, 3, 32, 32]) as tf.Tensor4D;
    const bias = tf.ones([32]);
    expectNoGrowth(() => {
      tf.conv2d(x, filter, 1, 'same').dispose();
      tf.fused.conv2d({ x, filter, bias, strides: 1, pad: 'same', activation: 'relu' }).dispose();
    });
    tf.dispose([x, filter, bias, ...known]);
  });
});

describe('Conv2D straight from x', () => {
  it("takes exactly the 'direct' cases, with a fresh filter", async () => {
    await useBackend('wasm');
    const product = packedProduct(wasmMemoryOf(tf.backend()) as WebAssembly.Memory)!;
    const convolve = vi.spyOn(product, 'convolve');
    try {
      for (const c of [...CASES, ...LARGE_FILTER_CASES]) {
        convolve.mockClear();
        tf.tidy(() =>
          tf.conv2d(
            tf.ones(c.x) as tf.Tensor4D,
            tf.ones(c.filter) as tf.Tensor4D,
            c.stride ?? 1,
            c.pad as never,
          ),
        );
        expect(convolve.mock.calls.length, `${c.x} ${c.filter}`).toBe(c.route === 'direct' ? 1 : 0);
      }
    } finally {
      convolve.mockRestore();
    }
  });
});

describe('Conv2D straight from x with a filter seen before (a layer at inference)', () => {
  it('takes it from 2^22 multiply-adds, its packing kept while the filter lives and shared, equal to cpu', async () => {
    await useBackend('wasm');
    const backend = tf.engine().backend;
    const product = packedProduct(wasmMemoryOf(backend) as WebAssembly.Memory)!;
    const [convolve, pack, multiply] = [
      vi.spyOn(product, 'convolve'),
      vi.spyOn(product, 'pack'),
      vi.spyOn(product, 'multiply'),
    ];
    const size = (shape: readonly number[]) => shape.reduce((p, d) => p * d, 1);
    const shapes = { big: [2, 66, 64, 3], small: [1, 24, 24, 3], filter: [7, 7, 3, 64] } as const;
    const filterValues = randomValues(size(shapes.filter), 91);
    const xValues = randomValues(size(shapes.big), 92);
    try {
      const filter = tf.tensor4d(filterValues, [...shapes.filter]);
      const [big, small] = [tf.tensor4d(xValues, [...shapes.big]), tf.ones([...shapes.small]) as tf.Tensor4D];
      const dataIds = backend.numDataIds();
      const outputs = [1, 2, 3].map(() => tf.conv2d(big, filter, 2, 'same')); // 19.9M multiply-adds
      expect(convolve).toHaveBeenCalledTimes(3);
      expect(pack).toHaveBeenCalledTimes(2); // fresh, then once for the kept packing
      expect(backend.numDataIds()).toBe(dataIds + 3 + 1);
      // 1.35M multiply-adds: the window form, whose product keeps the same packing once the filter is a
      // right operand seen before.
      for (let call = 0; call < 2; call++) tf.conv2d(small, filter, 2, 'same').dispose();
      expect(convolve).toHaveBeenCalledTimes(3);
      expect(pack).toHaveBeenCalledTimes(2);
      expect(multiply.mock.lastCall?.[1]).toEqual({ packedAt: convolve.mock.calls[2][0].packed });
      expect(backend.numDataIds()).toBe(dataIds + 3 + 1);
      const { cpu } = await onBothBackends(() =>
        tf.conv2d(
          tf.tensor4d(xValues, [...shapes.big]),
          tf.tensor4d(filterValues, [...shapes.filter]),
          2,
          'same',
        ),
      );
      for (const output of outputs) {
        expect(maxAbsDifference((await output.data()) as Float32Array, cpu[0])).toBeLessThan(1e-4);
      }
      tf.dispose(outputs);
      expectNoGrowth(() => tf.conv2d(big, filter, 2, 'same').dispose());
      filter.dispose();
      expect(backend.numDataIds()).toBe(dataIds - 1); // the filter and its packing
      tf.dispose([big, small]);
    } finally {
      for (const spy of [convolve, pack, multiply]) spy.mockRestore();
    }
  });
});

describe('Winograd with a filter seen before (a layer at inference)', () => {
  it("keeps the filter's transform, one per variant, while the filter lives and frees it with it", async () => {
    await useBackend('wasm');
    const backend = tf.engine().backend;
    const dataIds = backend.numDataIds();
    const shapes: Shape4[] = [
      [1, 26, 24, 32],
      [1, 10, 10, 128],
      [1, 20, 20, 128],
    ];
    const [x7, x2, x4] = shapes.map((shape) => tf.ones(shape) as tf.Tensor4D);
    const [filter7, filter3] = [tf.ones([14, 14, 32, 32]), tf.ones([3, 3, 128, 128])] as tf.Tensor4D[];
    const inputs = 3;
    const filters = 2;
    const use = () => {
      tf.conv2d(x7, filter7, 1, 'valid').dispose();
      tf.conv2d(x2, filter3, 1, 'same').dispose(); // 25 tiles of 2x2, 9 of 4x4: F(2x2)
      tf.conv2d(x4, filter3, 1, 'same').dispose(); // 25 tiles of 4x4: F(4x4)
    };
    use(); // fresh filters (their transforms freed with the call), but filter3 is seen before by x4: F(4x4)
    expect(backend.numDataIds()).toBe(dataIds + inputs + filters + 36);
    use(); // all seen before: 64 matrices [1, 4 x 32, 32]; 16 and 36 [1, 128, 128]
    // The F(4x4) transforms, seen before, are right operands that our product keeps packed (one each).
    expect(backend.numDataIds()).toBe(dataIds + inputs + filters + 64 + 16 + 36 + 36);
    expectNoGrowth(use); // now every transform has its packing
    expect(backend.numDataIds()).toBe(dataIds + inputs + filters + 2 * (64 + 16 + 36));
    filter7.dispose();
    expect(backend.numDataIds()).toBe(dataIds + inputs + 1 + 2 * (16 + 36));
    filter3.dispose();
    expect(backend.numDataIds()).toBe(dataIds + inputs);
    tf.dispose([x7, x2, x4]);
  });

  it('computes with the kept transform what it computes afresh (F(2x2) and F(4x4), within 1e-5 of cpu)', async () => {
    const shapes: Shape4[] = [
      [2, 9, 10, 128],
      [1, 21, 20, 128],
    ];
    const filterShape: Shape4 = [3, 3, 128, 128];
    const filterValues = randomValues(3 * 3 * 128 * 128, 96);
    const xValues = shapes.map((shape, k) =>
      randomValues(
        shape.reduce((p, d) => p * d, 1),
        97 + k,
      ),
    );
    const { cpu, wasm } = await onBothBackends(() => {
      const filter = tf.tensor4d(filterValues, filterShape);
      const xs = shapes.map((shape, k) => tf.tensor4d(xValues[k], shape));
      return [1, 2, 3].flatMap(() => xs.map((x) => tf.conv2d(x, filter, 1, 'same')));
    });
    for (const [k, output] of wasm.entries()) {
      expect(relativeDifference(output, cpu[k % shapes.length])).toBeLessThan(1e-5);
    }
  });
});

describe('Winograd by chunks of tiles', () => {
  // [3, 17, 19, 32] 'same' with F(2x2): 9 x 10 tiles of 2x2 per image, 16 matrices of 32 channels.
  const x: Shape4 = [3, 17, 19, 32];
  const filterShape: Shape4 = [3, 3, 32, 32];
  const valuesPerTile = 16 * 32;
  it('splits the tiles into whole images, or tile rows of one image, within the budget', () => {
    const chunk = (image: number, images: number, firstRow: number, rows: number) => ({
      image,
      images,
      firstRow,
      rows,
    });
    expect(tileChunks(3, 9, 10, 1000)).toEqual([chunk(0, 3, 0, 9)]);
    expect(tileChunks(3, 9, 10, 180)).toEqual([chunk(0, 2, 0, 9), chunk(2, 1, 0, 9)]);
    expect(tileChunks(3, 9, 10, 45)).toEqual(
      [0, 1, 2].flatMap((image) => [chunk(image, 1, 0, 4), chunk(image, 1, 4, 4), chunk(image, 1, 8, 1)]),
    );
    expect(tileChunks(1, 9, 10, 7)).toEqual(Array.from({ length: 9 }, (_, row) => chunk(0, 1, row, 1)));
  });

  it.each([
    ['every image at once', 1000],
    ['two images, then one', 180],
    ['tile rows of one image (4, 4, 1)', 45],
    ['one tile row at a time', 7],
  ])('equals cpu within 1e-4: %s', async (_, maxTiles) => {
    const xValues = randomValues(3 * 17 * 19 * 32, 98);
    const filterValues = randomValues(3 * 3 * 32 * 32, 99);
    const cpu = await onBothBackends(() =>
      tf.conv2d(tf.tensor4d(xValues, x), tf.tensor4d(filterValues, filterShape), 1, 'same'),
    );
    await useBackend('wasm');
    const [xInfo, filterInfo] = [tf.tensor4d(xValues, x), tf.tensor4d(filterValues, filterShape)];
    const backend = tf.engine().backend;
    const scope = new WasmKernelScope(backend);
    const transforms = scope.simd()!.winograd[2];
    const filters = Array.from({ length: 16 }, () => scope.allocate([1, 32, 32]));
    transforms.filter(
      scope.floats(filterInfo),
      filters.map((t) => scope.floats(t)),
    );
    const g = convGeometry('Conv2D', x, filterShape, 1, 1, 'same', undefined, false);
    const y = scope.finish(
      winogradConvolve(scope, transforms, xInfo, filters, g, { chunkValues: maxTiles * valuesPerTile }),
    );
    const wasm = scope.floats(y).slice();
    backend.disposeData(y.dataId);
    tf.dispose([xInfo, filterInfo]);
    expect(maxAbsDifference(wasm, cpu.cpu[0])).toBeLessThan(1e-4);
  });
});
