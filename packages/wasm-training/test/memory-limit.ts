import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { initWasmBackend } from '../src/index.js';

const EXHAUSTED =
  /^wasm memory exhausted \(4 GiB, the most wasm32 can address\): could not allocate .*use a smaller batch or input size$/;
const ABORTED =
  /^wasm aborted with its heap at 4\.00 GiB: most likely memory exhausted .*use a smaller batch or input size$/;

/**
 * The tests of wasm32's 4 GiB limit on the build that `threads` selects. Each thread count needs its own
 * test file: the wasm module loads once per process. A test that finished proves the build did not stall.
 */
export function describeMemoryLimit(threads: 1 | 2): void {
  describe(`wasm memory limit, ${threads} thread(s)`, () => {
    beforeAll(async () => {
      const choice = await initWasmBackend({ threads });
      expect(choice.threads).toBe(threads);
    });

    it('refuses a tensor larger than 4 GiB before allocating', () => {
      const before = tf.memory().numTensors;
      expect(() => tf.fill([1_100_000_000], 1)).toThrow(EXHAUSTED);
      expect(tf.memory().numTensors).toBe(before);
    });

    it('throws when the heap cannot grow for an output, and stays usable', () => {
      const before = tf.memory().numTensors;
      const big = tf.fill([550 * 2 ** 20], 1); // 2.15 GiB: a second one does not fit
      expect(() => tf.add(big, 1)).toThrow(EXHAUSTED);
      big.dispose();
      expect(tf.memory().numTensors).toBe(before);
      expectSmallConvWorks();
    });

    // A 38 MB filter to pack: at stride 2 XNNPACK's own convolution packs it and aborts; at stride 1 Winograd
    // takes it and its products check the headroom first.
    it.each([
      {
        stride: 2,
        x: [1, 4, 4, 256] as const,
        error: ABORTED,
        what: 'rethrows the abort inside XNNPACK packing a filter',
      },
      {
        stride: 1,
        x: [1, 26, 24, 256] as const,
        error: EXHAUSTED,
        what: 'refuses a Winograd convolution before writing',
      },
    ])('$what (stride $stride)', ({ stride, x: shape, error }) => {
      const x = tf.ones([...shape]) as tf.Tensor4D;
      const filter = tf.fill([3, 3, 256, 4096], 0.01) as tf.Tensor4D;
      const release = fillWasmHeap();
      try {
        expect(() => tf.conv2d(x, filter, stride, 'same')).toThrow(error);
      } finally {
        release();
        tf.dispose([x, filter]);
      }
      expectSmallConvWorks();
    });

    it('refuses a matrix product whose packed weights do not fit (XNNPACK would return garbage)', () => {
      const a = tf.ones([16, 256]);
      const b = tf.fill([256, 36864], 0.01); // 38 MB to pack
      const release = fillWasmHeap();
      try {
        expect(() => tf.matMul(a, b)).toThrow(EXHAUSTED);
      } finally {
        release();
        tf.dispose([a, b]);
      }
      const product = tf.matMul(tf.ones([2, 3]), tf.ones([3, 4]));
      expect(Array.from(product.dataSync())).toEqual(new Array(8).fill(3));
      product.dispose();
    });
  });
}

function expectSmallConvWorks(): void {
  const sum = tf.tidy(() =>
    tf.sum(
      tf.conv2d(tf.ones([1, 4, 4, 8]) as tf.Tensor4D, tf.ones([3, 3, 8, 16]) as tf.Tensor4D, 1, 'valid'),
    ),
  );
  expect(sum.dataSync()[0]).toBe(2 * 2 * 16 * 3 * 3 * 8);
  sum.dispose();
}

/**
 * Takes all but < 16 MiB of the wasm heap in untouched blocks (fast, and no resident memory), as a model
 * that fills wasm32's 4 GiB would. Returns the function that gives them back.
 */
function fillWasmHeap(): () => void {
  const { wasm } = tf.backend() as unknown as {
    wasm: { _malloc(bytes: number): number; _free(address: number): void };
  };
  const blocks: number[] = [];
  for (let bytes = 2 ** 31; bytes >= 2 ** 24; bytes /= 2) {
    try {
      for (;;) blocks.push(wasm._malloc(bytes));
    } catch {
      // No room left for this size: try half of it.
    }
  }
  return () => {
    for (const address of blocks) wasm._free(address);
  };
}
