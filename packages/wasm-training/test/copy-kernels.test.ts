import * as tf from '@tensorflow/tfjs-core';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { concatConfig } from '../src/concat.js';
import { padV2Config } from '../src/pad.js';
import { sliceConfig } from '../src/slice.js';
import { expectNoGrowth, randomValues, recordWasmKernelCalls, useBackend } from './backends.js';

type NumericDType = 'float32' | 'int32' | 'bool';
const DTYPES: NumericDType[] = ['float32', 'int32', 'bool'];

interface Result {
  shape: number[];
  dtype: string;
  values: unknown[];
}

/** A deterministic tensor of `dtype` on the active backend (ints in [-100, 100], bools about half true). */
function sample(shape: number[], dtype: NumericDType, seed: number): tf.Tensor {
  const values = randomValues(
    shape.reduce((p, d) => p * d, 1),
    seed,
  );
  if (dtype === 'float32') return tf.tensor(values, shape);
  if (dtype === 'int32')
    return tf.tensor(
      Int32Array.from(values, (v) => Math.round(v * 100)),
      shape,
      'int32',
    );
  return tf.tensor(
    Uint8Array.from(values, (v) => (v > 0 ? 1 : 0)),
    shape,
    'bool',
  );
}

/** `compute`'s result on 'cpu' and on 'wasm' (with this package's kernels). */
async function onBoth(compute: () => tf.Tensor): Promise<{ cpu: Result; wasm: Result }> {
  const results: Record<string, Result> = {};
  for (const backend of ['cpu', 'wasm']) {
    await useBackend(backend);
    const out = tf.tidy(compute);
    results[backend] = { shape: out.shape, dtype: out.dtype, values: Array.from(await out.data()) };
    out.dispose();
  }
  return { cpu: results.cpu, wasm: results.wasm };
}

/** The Concat kernel itself, which receives its inputs as a list (`tf.concat` upcasts and skips one input). */
function runConcat(inputs: tf.Tensor[], axis: number): tf.Tensor {
  return tf.engine().runKernel('Concat', inputs as unknown as tf.NamedTensorMap, { axis }) as tf.Tensor;
}

afterAll(async () => {
  await useBackend('cpu');
});

interface SliceCase {
  shape: number[];
  begin: number[];
  size: number[];
}

// Ranks 1-5; contiguous slices, runs shorter and longer than the value-by-value threshold (16), a run of
// one value (one channel of NHWC), size -1 and an empty slice.
const SLICES: SliceCase[] = [
  { shape: [10], begin: [3], size: [5] },
  { shape: [10], begin: [4], size: [-1] },
  { shape: [6, 7], begin: [2, 0], size: [3, 7] },
  { shape: [6, 7], begin: [1, 2], size: [4, 3] },
  { shape: [6, 7], begin: [0, 5], size: [-1, 2] },
  { shape: [6, 7], begin: [2, 3], size: [0, 2] },
  { shape: [4, 5, 6], begin: [1, 0, 0], size: [2, 5, 6] },
  { shape: [4, 5, 6], begin: [1, 1, 0], size: [2, 3, 6] },
  { shape: [4, 5, 6], begin: [0, 2, 1], size: [4, 2, 4] },
  { shape: [4, 5, 6], begin: [1, 2, 2], size: [1, -1, 2] },
  { shape: [3, 40, 50], begin: [1, 5, 10], size: [2, 20, 30] },
  { shape: [2, 5, 6, 3], begin: [0, 1, 1, 0], size: [2, 3, 4, 3] },
  { shape: [2, 5, 6, 3], begin: [0, 0, 0, 1], size: [2, 5, 6, 1] },
  { shape: [2, 5, 6, 3], begin: [1, 0, 0, 0], size: [1, -1, -1, -1] },
  { shape: [2, 3, 4, 5, 6], begin: [1, 1, 0, 2, 1], size: [1, 2, 4, 3, 4] },
  { shape: [2, 3, 4, 5, 6], begin: [1, 1, 2, 0, 0], size: [1, 1, 2, 5, 6] },
  { shape: [2, 3, 4, 5, 6], begin: [0, 1, 1, 1, 0], size: [-1, 2, 3, 4, -1] },
];

describe.each(SLICES)('Slice of $shape from $begin, size $size', (c) => {
  it.each(DTYPES)('%s: equals cpu exactly', async (dtype) => {
    const { cpu, wasm } = await onBoth(() => tf.slice(sample(c.shape, dtype, 7), c.begin, c.size));
    expect(wasm).toEqual(cpu);
  });
});

interface StridedCase {
  shape: number[];
  begin: number[];
  end: number[];
  strides: number[];
  masks?: { begin?: number; end?: number; ellipsis?: number; newAxis?: number; shrink?: number };
}

// Every other pixel of NHWC (runs of whole channels), strides on the innermost axis (value by value),
// ends past the shape and negative indices, begin, end, ellipsis and new-axis masks.
const STRIDED: StridedCase[] = [
  { shape: [2, 9, 8, 5], begin: [0, 0, 0, 0], end: [2, 9, 8, 5], strides: [1, 2, 2, 1] },
  { shape: [2, 9, 8, 20], begin: [0, 1, 1, 0], end: [2, 9, 8, 20], strides: [1, 3, 2, 1] },
  { shape: [3, 10], begin: [0, 1], end: [3, 10], strides: [2, 3] },
  { shape: [12], begin: [-10], end: [100], strides: [4] },
  { shape: [4, 6, 5], begin: [1, 0, 0], end: [3, 6, 5], strides: [1, 1, 1], masks: { end: 6 } },
  { shape: [4, 6, 5], begin: [0, 2, 1], end: [0, 5, 4], strides: [1, 2, 1], masks: { begin: 1, end: 1 } },
  { shape: [4, 6, 5], begin: [0, 1], end: [0, 5], strides: [1, 2], masks: { ellipsis: 1 } },
  { shape: [4, 6], begin: [0, 0, 1], end: [4, 0, 6], strides: [2, 1, 2], masks: { newAxis: 2 } },
  { shape: [4, 6, 5], begin: [2, 4, 0], end: [2, 6, 5], strides: [1, 1, 1] },
];

describe.each(STRIDED)('StridedSlice of $shape from $begin to $end by $strides', (c) => {
  it.each(DTYPES)('%s: equals cpu exactly', async (dtype) => {
    const { begin, end, ellipsis, newAxis, shrink } = c.masks ?? {};
    const { cpu, wasm } = await onBoth(() =>
      tf.stridedSlice(
        sample(c.shape, dtype, 9),
        c.begin,
        c.end,
        c.strides,
        begin,
        end,
        ellipsis,
        newAxis,
        shrink,
      ),
    );
    expect(wasm).toEqual(cpu);
  });
});

describe('StridedSlice on wasm', () => {
  it('shrinks axes as numpy does (x[1, 0::2, 2]; tfjs-backend-cpu 4.22 gives [1, 2, 3])', async () => {
    await useBackend('wasm');
    const x = tf.tensor3d(
      Int32Array.from({ length: 120 }, (_, i) => i),
      [4, 6, 5],
      'int32',
    );
    const y = tf.stridedSlice(x, [1, 0, 2], [2, 6, 3], [1, 2, 1], 0, 0, 0, 0, 0b101);
    expect(y.shape).toEqual([3]);
    expect(Array.from(await y.data())).toEqual([32, 42, 52]);
    tf.dispose([x, y]);
  });

  it("hands negative strides to wasm's own kernel", async () => {
    await useBackend('wasm');
    const x = tf.ones([4, 6, 5]);
    const { calls } = recordWasmKernelCalls(
      ['StridedSlice'],
      (name) => name,
      () =>
        tf.tidy(() => {
          tf.stridedSlice(x, [0, 0, 0], [4, 6, 5], [1, 2, 1]);
          tf.stridedSlice(x, [3, 5, 4], [0, 0, 0], [-1, -2, -1]);
        }),
    );
    expect(calls).toEqual(['StridedSlice']);
    x.dispose();
  });
});

interface ConcatCase {
  /** Each input's shape; inputs differ only on `axis`. */
  shapes: number[][];
  axis: number;
}

function concatCases(): ConcatCase[] {
  const cases: ConcatCase[] = [];
  const base = [2, 3, 4];
  for (const axis of [0, 1, 2, -1, -2, -3]) {
    const at = axis < 0 ? axis + base.length : axis;
    const along = (n: number) => base.map((d, i) => (i === at ? n : d));
    cases.push({ shapes: [along(1), along(0), along(3), along(2)], axis });
  }
  // Blocks of one value (a stack along a new last axis), of 2 channels, and long blocks.
  cases.push({
    shapes: [
      [2, 5, 6, 1],
      [2, 5, 6, 1],
    ],
    axis: 3,
  });
  cases.push({
    shapes: [
      [2, 5, 6, 2],
      [2, 5, 6, 1],
      [2, 5, 6, 2],
    ],
    axis: -1,
  });
  cases.push({
    shapes: [
      [2, 5, 6, 3],
      [2, 5, 4, 3],
    ],
    axis: 2,
  });
  cases.push({ shapes: [[7], [0], [5]], axis: 0 });
  cases.push({
    shapes: [
      [3, 8, 2, 2, 3],
      [3, 1, 2, 2, 3],
    ],
    axis: 1,
  });
  // One non-empty input among empty ones.
  cases.push({
    shapes: [
      [0, 4],
      [3, 4],
      [0, 4],
    ],
    axis: 0,
  });
  return cases;
}

describe.each(concatCases())('Concat of $shapes on axis $axis', (c) => {
  it.each(DTYPES)('%s: equals cpu exactly', async (dtype) => {
    const { cpu, wasm } = await onBoth(() =>
      tf.concat(
        c.shapes.map((shape, k) => sample(shape, dtype, 11 + k)),
        c.axis,
      ),
    );
    expect(wasm).toEqual(cpu);
  });
});

describe('Concat kernel with one input (tf.concat clones it before any kernel)', () => {
  it.each(DTYPES)('%s: equals cpu exactly', async (dtype) => {
    const { cpu, wasm } = await onBoth(() => runConcat([sample([3, 4], dtype, 5)], 1));
    expect(wasm).toEqual(cpu);
  });
});

interface PadCase {
  shape: number[];
  paddings: Array<[number, number]>;
}

// Ranks 1-5; NHWC padded on its rows and columns (Winograd's patches), unevenly, on channels only (runs of
// one value), on the first axis only (one run), a dilation's 5-D form (runs of 20 values, past the
// value-by-value threshold of 16), no padding at all, and an empty input (all padding).
const PADS: PadCase[] = [
  { shape: [10], paddings: [[2, 3]] },
  {
    shape: [6, 7],
    paddings: [
      [1, 0],
      [0, 2],
    ],
  },
  {
    shape: [6, 7],
    paddings: [
      [0, 0],
      [3, 1],
    ],
  },
  {
    shape: [6, 7],
    paddings: [
      [2, 2],
      [0, 0],
    ],
  },
  {
    shape: [2, 40, 50],
    paddings: [
      [1, 0],
      [2, 3],
      [0, 0],
    ],
  },
  {
    shape: [2, 5, 6, 3],
    paddings: [
      [0, 0],
      [1, 1],
      [1, 1],
      [0, 0],
    ],
  },
  {
    shape: [2, 5, 6, 3],
    paddings: [
      [0, 0],
      [0, 2],
      [1, 3],
      [0, 0],
    ],
  },
  {
    shape: [2, 5, 6, 3],
    paddings: [
      [0, 0],
      [0, 0],
      [0, 0],
      [1, 2],
    ],
  },
  {
    shape: [6, 1, 4, 1, 20],
    paddings: [
      [0, 0],
      [0, 1],
      [0, 0],
      [0, 1],
      [0, 0],
    ],
  },
  {
    shape: [3, 4],
    paddings: [
      [0, 0],
      [0, 0],
    ],
  },
  {
    shape: [0, 4],
    paddings: [
      [1, 2],
      [0, 1],
    ],
  },
];

/** The padding value per dtype: a zero, and a value of each dtype that is not one. */
const PAD_VALUES: Record<NumericDType, number[]> = { float32: [0, -1.5], int32: [0, 7], bool: [0, 1] };

describe.each(PADS)('PadV2 of $shape by $paddings', (c) => {
  it.each(DTYPES)('%s: equals cpu exactly', async (dtype) => {
    for (const value of PAD_VALUES[dtype]) {
      const { cpu, wasm } = await onBoth(() => tf.pad(sample(c.shape, dtype, 13), c.paddings, value));
      expect(wasm).toEqual(cpu);
    }
  });
});

describe('Slice, Concat and PadV2 on wasm', () => {
  it('never read the whole input out of wasm memory', async () => {
    await useBackend('wasm');
    const backend = tf.engine().backend;
    const x = sample([1, 2000, 64], 'float32', 3);
    const readSync = vi.spyOn(backend, 'readSync');
    try {
      const parts = [
        tf.slice(x, [0, 100, 0], [1, 1800, 64]),
        tf.slice(x, [0, 0, 8], [1, 2000, 16]),
        tf.concat([x, x], 2),
        tf.pad(x, [
          [0, 0],
          [1, 1],
          [0, 0],
        ]),
      ];
      expect(readSync).not.toHaveBeenCalled();
      tf.dispose(parts);
    } finally {
      readSync.mockRestore();
      x.dispose();
    }
  });

  it("hands strings, and inputs of mixed dtypes, to wasm's own kernels", async () => {
    await useBackend('wasm');
    expect(tf.getKernel('Slice', 'wasm')?.kernelFunc).toBe(sliceConfig.kernelFunc);
    expect(tf.getKernel('Concat', 'wasm')?.kernelFunc).toBe(concatConfig.kernelFunc);
    expect(tf.getKernel('PadV2', 'wasm')?.kernelFunc).toBe(padV2Config.kernelFunc);
    const { calls, result } = recordWasmKernelCalls(
      ['Slice', 'Concat'],
      (name) => name,
      () => {
        const words = tf.tensor(['a', 'bb', 'ccc', 'dddd'], [2, 2]);
        const sliced = tf.slice(words, [0, 1], [2, 1]);
        const joined = tf.concat([words, words], 1);
        const mixed = tf.tidy(() => runConcat([tf.tensor1d([0.5]), tf.tensor1d([2], 'int32')], 0));
        tf.tidy(() => [tf.slice(tf.ones([4, 4]), [1, 1], [2, 2]), tf.concat([tf.ones([2]), tf.zeros([2])])]);
        return { words, sliced, joined, mixed };
      },
    );
    const { words, sliced, joined, mixed } = result;
    expect(calls).toEqual(['Slice', 'Concat', 'Concat']);
    expect(await sliced.array()).toEqual([['bb'], ['dddd']]);
    expect(await joined.array()).toEqual([
      ['a', 'bb', 'a', 'bb'],
      ['ccc', 'dddd', 'ccc', 'dddd'],
    ]);
    expect(Array.from(await mixed.data())).toEqual([0.5, 2]);
    tf.dispose([words, sliced, joined, mixed]);
  });

  it('rejects a slice that overflows its input, naming the axis', async () => {
    await useBackend('wasm');
    const x = tf.ones([4, 5]);
    expect(() => tf.slice(x, [1, 2], [2, 4])).toThrow(
      /begin\[1\] \+ size\[1\] \(6\) would overflow input.shape\[1\] \(5\)/,
    );
    x.dispose();
  });

  it('rejects negative paddings, naming them and the shape', async () => {
    await useBackend('wasm');
    const x = tf.ones([4, 5]);
    const padKernel = () =>
      tf.engine().runKernel(
        'PadV2',
        { x },
        {
          paddings: [
            [0, 0],
            [-1, 2],
          ],
          constantValue: 0,
        },
      );
    expect(padKernel).toThrow(
      /PadV2: paddings must be one \[before, after\] pair of non-negative amounts per axis of x \(shape \[4,5\]\), got \[\[0,0\],\[-1,2\]\]/,
    );
    x.dispose();
  });

  it('leave no tensor behind over repeated calls', async () => {
    await useBackend('wasm');
    const x = sample([3, 40, 50], 'float32', 9);
    const empty = tf.zeros([3, 0, 50]);
    const run = () =>
      tf.dispose([
        tf.slice(x, [1, 5, 10], [2, 20, 30]),
        tf.slice(x, [1, 0, 0], [1, -1, -1]),
        tf.concat([x, empty, x], 1),
        tf.concat([empty, x], 1),
        tf.pad(
          x,
          [
            [0, 1],
            [2, 2],
            [0, 0],
          ],
          3,
        ),
        tf.pad(empty, [
          [0, 0],
          [1, 0],
          [0, 0],
        ]),
      ]);
    expectNoGrowth(run);
    tf.dispose([x, empty]);
  });
});
