import { getThreadsCount } from '@tensorflow/tfjs-backend-wasm';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-core/dist/register_all_gradients';
import { describe, expect, it } from 'vitest';
import { initWasmBackend } from '../src/index.js';
import { packedProduct, productHelperOf, setProductHelper } from '../src/packed-product.js';
import { sgdMomentumStep } from '../src/sgd-momentum.js';
import { tileParts } from '../src/simd-kernels.js';
import { wasmMemoryOf } from '../src/wasm-heap.js';
import { maxAbsDifference, randomValues, recordWasmKernelCalls } from './backends.js';

/**
 * The threaded backend, its product helper wrapped to record each shared job's call names (restore with
 * `setProductHelper(memory, helper)`).
 */
async function recordSharedJobs() {
  await initWasmBackend({ threads: 2 });
  const memory = wasmMemoryOf(tf.backend())!;
  const helper = productHelperOf(memory)!;
  const shared: string[][][] = [];
  setProductHelper(memory, {
    share: (tasks, threadStride, runHere) => {
      shared.push(tasks.map((task) => task.map((call) => call.name)));
      helper.share(tasks, threadStride, runHere);
    },
  });
  return { memory, helper, shared };
}

/**
 * Runs `outputs` on the threaded wasm backend, expecting the jobs it shares with the helper thread to be
 * `jobs` and a second run to give the same values bit for bit, then on cpu, expecting each output within
 * `tolerance`; the helper is put back after.
 */
async function expectSharedAsCpu(outputs: () => ArrayLike<number>[], jobs: string[][][], tolerance: number) {
  const { memory, helper, shared } = await recordSharedJobs();
  try {
    await tf.setBackend('wasm');
    shared.length = 0;
    const onWasm = outputs();
    expect(shared).toEqual(jobs);
    expect(outputs()).toEqual(onWasm);
    await tf.setBackend('cpu');
    const onCpu = outputs();
    for (const [i, values] of onWasm.entries()) {
      expect(maxAbsDifference(values as Float32Array, onCpu[i] as Float32Array)).toBeLessThan(tolerance);
    }
  } finally {
    setProductHelper(memory, helper);
  }
}

// Its own test file: the wasm module (and so its thread count) is chosen once per process.
describe('initWasmBackend({ threads: 2 }) in Node', () => {
  it('runs the threaded SIMD build on two threads with the same gradients as cpu', async () => {
    const choice = await initWasmBackend({ threads: 2 });
    expect(choice).toEqual({ threads: 2, build: 'threaded-simd' });
    // XNNPACK's pool is the calling thread alone: our helper thread is the second.
    expect(getThreadsCount()).toBe(1);
    expect(productHelperOf(wasmMemoryOf(tf.backend())!)).toBeDefined();
    expect(tf.getBackend()).toBe('wasm');
    expect(await initWasmBackend({ threads: 1 })).toBe(choice);

    const x = randomValues(2 * 12 * 12 * 8, 1);
    const w = randomValues(3 * 3 * 8 * 16, 2);
    const gradient = () =>
      tf.tidy(() => {
        const loss = (filter: tf.Tensor) =>
          tf.sum(tf.square(tf.conv2d(tf.tensor4d(x, [2, 12, 12, 8]), filter as tf.Tensor4D, 2, 'same')));
        return tf
          .grad(loss)(tf.tensor4d(w, [3, 3, 8, 16]))
          .dataSync();
      });
    const onWasm = gradient();
    await tf.setBackend('cpu');
    const onCpu = gradient();
    expect(maxAbsDifference(onWasm as Float32Array, onCpu as Float32Array)).toBeLessThan(1e-3);
  });

  it('splits products of 2M+ multiply-adds with its helper thread and runs smaller ones here, equal to cpu', async () => {
    const { memory, helper, shared } = await recordSharedJobs();
    expect(memory.buffer).toBeInstanceOf(SharedArrayBuffer);
    expect(packedProduct(memory)?.worthwhile).toBe(true);
    // 130 x 520 x 39: 2.6M multiply-adds, 130 rows in blocks of 32 for both threads; 130 x 600 x 120: the
    // same, after B's 72K values are packed in 8 blocks of panels on both threads; 40 x 300 x 1100 (B too
    // wide for our product of few rows): 13M, 40 rows (two blocks) so split by columns, 28 blocks of 40 (5
    // panels), each packing its own panels of B and multiplying by them; 40 x 1700 x 64: fewer rows than
    // steps of k, so split by k, two shares each packing its part of B into a copy of C; 40 x 4100 x 32: four
    // shares; 68 x 1000 x 32: three blocks of rows (too few panels for blocks of columns, too few steps of k
    // for shares of k); untransposed, the first two and 40 x 4100 x 32 go to our product of few rows (B's
    // rows in 6 and 16 shares); 40 x 64 x 48: 123K, on this thread alone (a wake-up would cost more than the
    // helper's share); never wasm's own kernel.
    const cases = [
      {
        m: 130,
        k: 520,
        n: 39,
        jobs: [['productRows', 'productRows', 'productRows', 'productRows', 'productRows']],
      },
      {
        m: 130,
        k: 600,
        n: 120,
        jobs: [
          Array(8).fill('packPanels'),
          ['productRows', 'productRows', 'productRows', 'productRows', 'productRows'],
        ],
      },
      { m: 40, k: 300, n: 1100, jobs: [Array(28).fill('packPanels')] },
      {
        m: 40,
        k: 1700,
        n: 64,
        jobs: [Array(2).fill('packPanels')],
        untransposed: [Array(6).fill('fewRowsProduct')],
      },
      {
        m: 40,
        k: 4100,
        n: 32,
        jobs: [Array(4).fill('packPanels')],
        untransposed: [Array(16).fill('fewRowsProduct')],
      },
      { m: 68, k: 1000, n: 32, jobs: [['productRows', 'productRows', 'productRows']] },
      { m: 40, k: 64, n: 48, jobs: [] },
    ];
    try {
      for (const { m, k, n, jobs, untransposed } of cases) {
        for (const [transposeA, transposeB] of [
          [false, false],
          [true, false],
          [false, true],
          [true, true],
        ]) {
          const a = randomValues(m * k, 3);
          const b = randomValues(k * n, 4);
          const product = () =>
            tf.tidy(() =>
              tf
                .matMul(
                  tf.tensor2d(a, transposeA ? [k, m] : [m, k]),
                  tf.tensor2d(b, transposeB ? [n, k] : [k, n]),
                  transposeA,
                  transposeB,
                )
                .dataSync(),
            );
          await tf.setBackend('wasm');
          shared.length = 0;
          const { calls, result: onWasm } = recordWasmKernelCalls(['BatchMatMul'], () => '', product);
          expect(calls).toEqual([]);
          const plain = !transposeA && !transposeB;
          expect(shared.map((job) => job.map(([name]) => name))).toEqual(
            plain ? (untransposed ?? jobs) : jobs,
          );
          // The same bits whichever thread ran which task (shares of k are added in order).
          expect(product()).toEqual(onWasm);
          await tf.setBackend('cpu');
          expect(maxAbsDifference(onWasm as Float32Array, product() as Float32Array)).toBeLessThan(1e-4);
        }
      }
    } finally {
      setProductHelper(memory, helper);
    }
  });

  it("takes products of few rows by shares of B's rows on both threads, B fresh or kept, equal to cpu", async () => {
    const { memory, helper, shared } = await recordSharedJobs();
    // 4 x 2048 x 300: 2.5M multiply-adds, B's 2048 rows in 8 shares of 256; 3 x 100 x 20 on this thread.
    const cases = [
      { m: 4, k: 2048, n: 300, jobs: [Array(8).fill('fewRowsProduct')] },
      { m: 3, k: 100, n: 20, jobs: [] },
    ];
    try {
      for (const { m, k, n, jobs } of cases) {
        const a = randomValues(m * k, 5);
        const b = randomValues(k * n, 6);
        await tf.setBackend('wasm');
        const kept = tf.tensor2d(b, [k, n]);
        for (const use of ['first', 'again']) {
          shared.length = 0;
          const product = () => tf.tidy(() => tf.matMul(tf.tensor2d(a, [m, k]), kept).dataSync());
          const { calls, result: onWasm } = recordWasmKernelCalls(['BatchMatMul'], () => '', product);
          expect(calls, `B used ${use}`).toEqual([]);
          expect(shared.map((job) => job.map(([name]) => name))).toEqual(jobs);
          await tf.setBackend('cpu');
          const onCpu = tf.tidy(() => tf.matMul(tf.tensor2d(a, [m, k]), tf.tensor2d(b, [k, n])).dataSync());
          expect(maxAbsDifference(onWasm as Float32Array, onCpu as Float32Array)).toBeLessThan(1e-4);
          await tf.setBackend('wasm');
        }
        kept.dispose();
      }
    } finally {
      setProductHelper(memory, helper);
    }
  });

  it("shares a dense layer's gradients at small batches by C's rows and W's rows on both threads, equal to cpu", async () => {
    // x [4, 1100], dy [4, 600], W [1100, 600]: 2.6M multiply-adds each, 1100 rows in 16 shares.
    const [x, dy, w] = [randomValues(4 * 1100, 7), randomValues(4 * 600, 8), randomValues(1100 * 600, 9)];
    const gradients = () =>
      tf.tidy(() => {
        const [xs, dys, ws] = [
          tf.tensor2d(x, [4, 1100]),
          tf.tensor2d(dy, [4, 600]),
          tf.tensor2d(w, [1100, 600]),
        ];
        return [tf.matMul(xs, dys, true, false).dataSync(), tf.matMul(dys, ws, false, true).dataSync()];
      });
    const jobs = [Array(16).fill(['outerProductRows']), Array(16).fill(['rowDotProducts'])];
    await expectSharedAsCpu(gradients, jobs, 1e-4);
  });

  it('splits a product of few rows by a weight kept packed by columns, its bias and ReLU per block, equal to cpu', async () => {
    const { memory, helper, shared } = await recordSharedJobs();
    // 40 x 300 x 1100: 40 rows (two blocks) split by columns, 28 blocks of 40 of the panels packed once.
    const [m, k, n] = [40, 300, 1100];
    const [x, w, bias] = [randomValues(m * k, 7), randomValues(k * n, 8), randomValues(n, 9)];
    const layer = (weight: tf.Tensor) =>
      tf.fused
        .matMul({ a: tf.tensor2d(x, [m, k]), b: weight, bias: tf.tensor1d(bias), activation: 'relu' })
        .dataSync();
    try {
      await tf.setBackend('wasm');
      const kept = tf.tensor2d(w, [k, n]);
      tf.tidy(() => layer(kept)); // seen from here on: packed once, kept
      shared.length = 0;
      const { calls, result: onWasm } = recordWasmKernelCalls(
        ['BatchMatMul', '_FusedMatMul'],
        () => '',
        () => tf.tidy(() => layer(kept)),
      );
      expect(calls).toEqual([]);
      expect(shared.map((job) => job.map(([name]) => name))).toEqual([Array(28).fill('productRows')]);
      kept.dispose();
      await tf.setBackend('cpu');
      const onCpu = tf.tidy(() => layer(tf.tensor2d(w, [k, n])));
      expect(maxAbsDifference(onWasm as Float32Array, onCpu as Float32Array)).toBeLessThan(1e-4);
    } finally {
      setProductHelper(memory, helper);
    }
  });

  it('shares the output rows of a depthwise convolution between both threads, equal to cpu', async () => {
    const x = randomValues(2 * 12 * 12 * 20, 7);
    const w = randomValues(3 * 3 * 20, 8);
    const bias = randomValues(20, 9);
    const layer = () =>
      tf.tidy(() => [
        tf.fused
          .depthwiseConv2d({
            x: tf.tensor4d(x, [2, 12, 12, 20]),
            filter: tf.tensor4d(w, [3, 3, 20, 1]),
            strides: 2,
            pad: 'same',
            bias: tf.tensor1d(bias),
            activation: 'relu6',
          })
          .dataSync(),
      ]);
    // 2 x 6 output rows, one task each.
    await expectSharedAsCpu(layer, [Array(12).fill(['depthwiseRows'])], 1e-5);
  });

  it("sums a depthwise filter gradient's images into copies on both threads, equal to cpu", async () => {
    const x = randomValues(3 * 12 * 12 * 20, 12);
    const dy = randomValues(3 * 6 * 6 * 20, 13);
    const dW = () =>
      tf.tidy(() => [
        (
          tf
            .engine()
            .runKernel(
              'DepthwiseConv2dNativeBackpropFilter',
              { x: tf.tensor4d(x, [3, 12, 12, 20]), dy: tf.tensor4d(dy, [3, 6, 6, 20]) },
              { strides: [2, 2], pad: 'same', dilations: [1, 1], filterShape: [3, 3, 20, 1] },
            ) as tf.Tensor
        ).dataSync(),
      ]);
    // One share per image.
    await expectSharedAsCpu(dW, [Array(3).fill(['depthwiseFilterGradient'])], 1e-4);
  });

  it('shares the rows of a depthwise input gradient between both threads, equal to cpu', async () => {
    const dy = randomValues(2 * 6 * 6 * 20, 10);
    const w = randomValues(3 * 3 * 20, 11);
    const dx = () =>
      tf.tidy(() => [
        (
          tf
            .engine()
            .runKernel(
              'DepthwiseConv2dNativeBackpropInput',
              { dy: tf.tensor4d(dy, [2, 6, 6, 20]), filter: tf.tensor4d(w, [3, 3, 20, 1]) },
              { strides: [2, 2], pad: 'same', dilations: [1, 1], inputShape: [2, 12, 12, 20] },
            ) as tf.Tensor
        ).dataSync(),
      ]);
    // 2 x 12 rows of dx in 16 shares.
    await expectSharedAsCpu(dx, [Array(16).fill(['depthwiseInputGradientRows'])], 1e-5);
  });

  it.each([
    // Windows that share no pixel: the batch's 2 x 32 output rows in 8 parts.
    { x: [2, 64, 64, 32], size: 2, stride: 2, pad: 'valid', parts: 8 },
    // Overlapping windows (3x3 at stride 2): whole images, one part each.
    { x: [3, 48, 48, 32], size: 3, stride: 2, pad: 'same', parts: 3 },
  ] as const)(
    'shares a max-pool gradient of 2^17+ values by $parts parts of its output rows, equal to cpu',
    async (c) => {
      const x = randomValues(
        c.x.reduce((p: number, d: number) => p * d, 1),
        14,
      );
      const dx = () =>
        tf.tidy(() => {
          const input = tf.tensor4d(x, [...c.x]);
          const output = tf.maxPool(input, c.size, c.stride, c.pad);
          const dy = tf.tensor4d(randomValues(output.size, 15), output.shape);
          const attrs = { filterSize: [c.size, c.size], strides: [c.stride, c.stride], pad: c.pad };
          return [
            (tf.engine().runKernel('MaxPoolGrad', { dy, input, output }, attrs) as tf.Tensor).dataSync(),
          ];
        });
      await expectSharedAsCpu(dx, [Array(c.parts).fill(['maxPoolGradientRows'])], 1e-5);
    },
  );

  it.each([
    { shape: [4, 64, 64, 70], axis: [0, 1, 2] },
    // An odd last row, in the last part.
    { shape: [28673, 37], axis: [0] },
  ])(
    'sums the columns of 2^20+ values in 8 parts of whole row pairs on both threads, equal to cpu: $shape',
    async (c) => {
      const values = randomValues(
        c.shape.reduce((p, d) => p * d, 1),
        16,
      );
      const sums = () => tf.tidy(() => [tf.sum(tf.tensor(values, c.shape), c.axis).dataSync()]);
      await expectSharedAsCpu(sums, [Array(8).fill(['columnSumsRows'])], 1e-5);
    },
  );

  it("runs a Winograd layer's products as batches and its tile transforms in parts on both threads, equal to cpu", async () => {
    const { memory, helper, shared } = await recordSharedJobs();
    // F(2x2, 3x3) on 2 x 49 tiles: 16 products of [98, 256] x [256, 256] (6.4M multiply-adds each); the
    // tile transforms (401K values each) in 8 parts, 4 groups of tile rows of each image; the filter's
    // transform (1M values) in 8 parts of its 65536 channel pairs. The filter gradient the same way, by
    // F(2x2) from 64 tiles.
    const x = randomValues(2 * 14 * 14 * 256, 5);
    const w = randomValues(3 * 3 * 256 * 256, 6);
    const convolveAndDifferentiate = () =>
      tf.tidy(() => {
        const input = tf.tensor4d(x, [2, 14, 14, 256]);
        const convolve = (filter: tf.Tensor) => tf.conv2d(input, filter as tf.Tensor4D, 1, 'same');
        const filter = tf.tensor4d(w, [3, 3, 256, 256]);
        const dW = tf.grad((f: tf.Tensor) => tf.sum(convolve(f)))(filter);
        return [convolve(filter).dataSync(), dW.dataSync()] as Float32Array[];
      });
    const relativeDifference = (wasm: Float32Array, cpu: Float32Array) =>
      maxAbsDifference(wasm, cpu) / cpu.reduce((largest, value) => Math.max(largest, Math.abs(value)), 0);
    try {
      await tf.setBackend('wasm');
      shared.length = 0;
      const [y, dW] = convolveAndDifferentiate();
      await tf.setBackend('cpu');
      const [yOnCpu, dWOnCpu] = convolveAndDifferentiate();
      expect(relativeDifference(y, yOnCpu)).toBeLessThan(1e-5);
      expect(relativeDifference(dW, dWOnCpu)).toBeLessThan(1e-5);
    } finally {
      setProductHelper(memory, helper);
    }
    // The 16 products in one job: each a task that packs its B and multiplies, for either thread to claim.
    expect(shared).toContainEqual(Array.from({ length: 16 }, () => ['packPanels', 'productRows']));
    for (const transform of [
      'winograd2InputTiles',
      'winograd2OutputTiles',
      'winograd2GradientTiles',
      'winograd2Filter',
      'winograd2FilterGradient',
    ]) {
      expect(shared).toContainEqual(Array.from({ length: 8 }, () => [transform]));
    }
  });

  it('runs channel ops, affine maps and ReLU gradients of 2^17+ values in runs on both threads, exactly', async () => {
    const { memory, helper, shared } = await recordSharedJobs();
    // [3, 7283, 6] + [6]: 131094 values, the bias tiled to 12 (lcm(6, 4)), runs of whole periods, the last
    // one short and ending in part of a vector; [4, 64, 64, 32] x [32]; then a ReLU gradient of 131075 and an
    // input normalisation.
    const cases = [
      { shape: [3, 7283, 6], op: 'add' },
      { shape: [4, 64, 64, 32], op: 'mul' },
    ] as const;
    const channelOps = () =>
      tf.tidy(() =>
        cases.map(({ shape, op }, k) => {
          const x = tf.tensor(
            randomValues(
              shape.reduce((p, d) => p * d, 1),
              11 + k,
            ),
            [...shape],
          );
          const perChannel = tf.tensor1d(randomValues(shape[shape.length - 1], 13 + k));
          return (op === 'add' ? tf.add(x, perChannel) : tf.mul(x, perChannel)).dataSync() as Float32Array;
        }),
      );
    const dy = randomValues(131075, 15);
    const y = randomValues(131075, 16).map((v, i) => (i % 7 === 0 ? Number.NaN : v));
    try {
      await tf.setBackend('wasm');
      shared.length = 0;
      const onWasm = channelOps();
      const gradient = tf.tidy(
        () =>
          (
            tf.engine().runKernel('DeepMaskReluGradient', {
              dy: tf.tensor1d(dy),
              y: tf.tensor1d(y),
            }) as tf.Tensor
          ).dataSync() as Float32Array,
      );
      expect(Array.from(gradient)).toEqual(
        Array.from(dy, (d, i) => (y[i] > 0 ? d : Number.isNaN(y[i]) ? Number.NaN : 0 * d)),
      );
      // The model's input normalisation: 12 x 64 x 64 x 3 pixels, scales and offsets tiled to 12.
      const pixels = randomValues(12 * 64 * 64 * 3, 17).map((v) => 255 * v);
      const [scale, offset] = [
        [1 / 58.4, 1 / 57.1, 1 / 57.4],
        [-2.1, -2.0, -1.8],
      ];
      const normalised = tf.tidy(
        () =>
          tf
            .batchNorm(tf.tensor(pixels, [12, 64, 64, 3]), tf.zeros([3]), tf.ones([3]), offset, scale, 0)
            .dataSync() as Float32Array,
      );
      const f = Math.fround;
      expect(Array.from(normalised)).toEqual(
        Array.from(pixels, (v, i) => f(f(f(v) * f(scale[i % 3])) + f(offset[i % 3]))),
      );
      expect(shared).toContainEqual(Array.from({ length: 8 }, () => ['channelOp']));
      expect(shared).toContainEqual(Array.from({ length: 8 }, () => ['channelAffine']));
      expect(shared).toContainEqual(Array.from({ length: 8 }, () => ['reluGradient']));
      await tf.setBackend('cpu');
      expect(onWasm).toEqual(channelOps());
    } finally {
      setProductHelper(memory, helper);
    }
  });

  it('runs the SGD step of 2^17+ parameters in runs on both threads, the values of its formula exactly', async () => {
    const { memory, helper, shared } = await recordSharedJobs();
    const size = 131075; // eight runs, the last ending in part of a vector
    const { learningRate, momentum, weightDecay } = { learningRate: 0.05, momentum: 0.8, weightDecay: 5e-4 };
    const [w, v, g] = [71, 72, 73].map((seed) => randomValues(size, seed));
    try {
      await tf.setBackend('wasm');
      shared.length = 0;
      const [variable, velocity] = [tf.variable(tf.tensor1d(w)), tf.variable(tf.tensor1d(v))];
      const gradient = tf.tensor1d(g);
      sgdMomentumStep(variable, velocity, gradient, { learningRate, momentum, weightDecay });
      const stepped = [variable.dataSync(), velocity.dataSync()];
      tf.dispose([variable, velocity, gradient]);
      await tf.setBackend('cpu');
      const formula = tf.tidy(() => {
        const d = tf.add(tf.tensor1d(g), tf.mul(tf.tensor1d(w), weightDecay));
        const newVelocity = tf.add(tf.mul(tf.tensor1d(v), momentum), d);
        return [tf.sub(tf.tensor1d(w), tf.mul(newVelocity, learningRate)).dataSync(), newVelocity.dataSync()];
      });
      expect(Array.from(stepped[0])).toEqual(Array.from(formula[0]));
      expect(Array.from(stepped[1])).toEqual(Array.from(formula[1]));
    } finally {
      setProductHelper(memory, helper);
    }
    expect(shared).toContainEqual(Array.from({ length: 8 }, () => ['sgdMomentum']));
  });

  it('splits the tiles of a transform into parts that cover each tile once, in order', () => {
    const cover = (dims: { batch: number; tilesH: number }) =>
      tileParts({ ...dims, tilesW: 3, channels: 4 }).flatMap(({ image, images, firstRow, rows }) =>
        Array.from({ length: images * rows }, (_, k) =>
          images === 1 ? [image, firstRow + k] : [image + Math.floor(k / rows), k % rows],
        ),
      );
    for (const dims of [
      { batch: 1, tilesH: 7 },
      { batch: 1, tilesH: 3 },
      { batch: 2, tilesH: 7 },
      { batch: 3, tilesH: 5 },
      { batch: 8, tilesH: 2 },
      { batch: 20, tilesH: 4 },
    ]) {
      const every = Array.from({ length: dims.batch * dims.tilesH }, (_, k) => [
        Math.floor(k / dims.tilesH),
        k % dims.tilesH,
      ]);
      expect(cover(dims)).toEqual(every);
    }
    expect(tileParts({ batch: 2, tilesH: 7, tilesW: 7, channels: 256 })).toHaveLength(8);
    expect(tileParts({ batch: 20, tilesH: 4, tilesW: 4, channels: 256 })).toHaveLength(8);
  });

  it.each([
    {
      what: 'small filter gradient taps',
      // 3x3 stride 2 from 12 to 16 channels: 800 output positions in chunks of 4096 dy values; the tap
      // records in eight shares.
      kernel: 'Conv2DBackpropFilter',
      inputs: { x: [8, 20, 20, 12], dy: [8, 10, 10, 16] },
      attrs: { strides: [2, 2], pad: 'same', dataFormat: 'NHWC', filterShape: [3, 3, 12, 16] },
      job: Array.from({ length: 8 }, () => ['filterGradientTaps']),
    },
    {
      what: 'small input gradient images',
      // 3x3 stride 2 from 16 to 24 channels; the images in 16 shares.
      kernel: 'Conv2DBackpropInput',
      inputs: { dy: [20, 7, 7, 24], filter: [3, 3, 16, 24] },
      attrs: { strides: [2, 2], pad: 'same', dataFormat: 'NHWC', inputShape: [20, 14, 14, 16] },
      job: Array.from({ length: 16 }, () => ['inputGradientTaps']),
    },
    {
      what: 'direct convolution rows',
      // 3x3 stride 2 from 3 to 16 channels; the 80 output rows in 16 shares.
      kernel: 'Conv2D',
      inputs: { x: [8, 20, 20, 3], filter: [3, 3, 3, 16] },
      attrs: { strides: [2, 2], pad: 'same', dataFormat: 'NHWC', dilations: [1, 1] },
      job: Array.from({ length: 16 }, () => ['convolutionRows']),
    },
  ])('shares $what with the helper, the same bits each run, equal to cpu', async (c) => {
    const { memory, helper, shared } = await recordSharedJobs();
    const shapes = Object.entries(c.inputs) as Array<[string, [number, number, number, number]]>;
    const values = shapes.map(([, shape], k) =>
      randomValues(
        shape.reduce((a, b) => a * b),
        9 + k,
      ),
    );
    const gradient = () =>
      tf.tidy(() => {
        const inputs = Object.fromEntries(
          shapes.map(([name, shape], k) => [name, tf.tensor4d(values[k], shape)]),
        );
        const out = tf.engine().runKernel(c.kernel, inputs, c.attrs as unknown as tf.NamedAttrMap);
        return (out as tf.Tensor).dataSync() as Float32Array;
      });
    try {
      await tf.setBackend('wasm');
      const runs = Array.from({ length: 5 }, gradient);
      for (const run of runs.slice(1)) expect(run).toEqual(runs[0]);
      await tf.setBackend('cpu');
      expect(maxAbsDifference(runs[0], gradient())).toBeLessThan(1e-4);
    } finally {
      setProductHelper(memory, helper);
    }
    // In one job, for either thread to claim.
    expect(shared).toContainEqual(c.job);
  });

  it('reports a failed task on either thread as an error, and keeps serving products', async () => {
    await initWasmBackend({ threads: 2 });
    const memory = wasmMemoryOf(tf.backend())!;
    const helper = productHelperOf(memory)!;
    // Rows read from past the end of wasm memory: the call traps. This thread sleeps in each task it claims,
    // so the helper claims the others.
    const beyond = memory.buffer.byteLength - 16;
    const trapping = Array.from({ length: 64 }, () => [
      {
        name: 'productRows' as const,
        args: [beyond, 4096, 4, beyond, beyond, 32, 0, 64, 8, 64, 0],
        perThread: [],
      },
    ]);
    const sleep = new Int32Array(new SharedArrayBuffer(4));
    expect(() => helper.share(trapping, 0, () => Atomics.wait(sleep, 0, 0, 200))).toThrow(
      '@deepmask/wasm-training: the matrix product helper thread failed',
    );
    // A function that the helper does not run is refused before the job starts (its share would be skipped).
    const unknown = [
      [{ name: 'columnSums', args: [], perThread: [] }],
      [{ name: 'columnSums', args: [], perThread: [] }],
    ];
    expect(() => helper.share(unknown, 0, () => {})).toThrow(
      "ProductHelper.share: 'columnSums' is not a function the helper runs",
    );
    // A task that throws on this thread: its error, not the helper's, once the job has ended. (The helper,
    // woken while this thread's notify returns, which can take tens of microseconds here, may claim every
    // task first: 64 failing ones take it longer than that; else try again.)
    let ranHere = false;
    let thrown: unknown;
    for (let attempt = 0; attempt < 20 && !ranHere; attempt++) {
      try {
        helper.share(trapping, 0, () => {
          ranHere = true;
          throw new Error('a task failed on this thread');
        });
      } catch (error) {
        thrown = error;
      }
    }
    expect(ranHere).toBe(true);
    expect((thrown as Error).message).toBe('a task failed on this thread');
    const a = randomValues(130 * 520, 7);
    const b = randomValues(520 * 39, 8);
    const product = () =>
      tf.tidy(() => tf.matMul(tf.tensor2d(a, [130, 520]), tf.tensor2d(b, [520, 39])).dataSync());
    await tf.setBackend('wasm');
    const onWasm = product();
    await tf.setBackend('cpu');
    expect(maxAbsDifference(onWasm as Float32Array, product() as Float32Array)).toBeLessThan(1e-4);
  });
});
