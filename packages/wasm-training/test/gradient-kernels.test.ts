import * as tf from '@tensorflow/tfjs-core';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { setWindowMatrixBudget } from '../src/im2col.js';
import { registerWasmTrainingKernels } from '../src/index.js';
import { packedProduct } from '../src/packed-product.js';
import { simdKernels } from '../src/simd-kernels.js';
import { wasmMemoryOf } from '../src/wasm-heap.js';
import { maxAbsDifference, onBothBackends, randomValues, useBackend } from './backends.js';
import {
  CONV_CASES,
  type ConvCase,
  convolutionGradients,
  DEPTHWISE_CASES,
  outShape,
  type Pad,
  pad,
  sizeOf,
  TOLERANCE,
  toleranceOf,
} from './gradient-cases.js';

interface PoolCase {
  name: string;
  x: [number, number, number, number];
  size: number;
  stride: number;
  pad: Pad;
  /** How the input is made: 'signed' in [-1, 1), 'relu' (many exact-zero ties), 'negative' (all < 0). */
  values: 'signed' | 'relu' | 'negative';
}

const POOL_CASES: PoolCase[] = [
  { name: 'resnet 3x3 s2 same', x: [2, 9, 8, 3], size: 3, stride: 2, pad: 'same', values: 'signed' },
  { name: 'resnet 3x3 s2 pad 1', x: [2, 8, 8, 3], size: 3, stride: 2, pad: pad(1), values: 'signed' },
  {
    name: 'resnet 3x3 s2 same after relu (ties)',
    x: [2, 8, 9, 4],
    size: 3,
    stride: 2,
    pad: 'same',
    values: 'relu',
  },
  { name: 'score head 2x2 s2 valid', x: [3, 6, 6, 5], size: 2, stride: 2, pad: 'valid', values: 'signed' },
  {
    name: 'vgg 2x2 s2 valid, all negative',
    x: [2, 7, 6, 3],
    size: 2,
    stride: 2,
    pad: 'valid',
    values: 'negative',
  },
  { name: 'fine-stride 2x2 s1 valid', x: [1, 5, 5, 2], size: 2, stride: 1, pad: 'valid', values: 'signed' },
  // Channels in multiples of 4 take the SIMD module's window gradient; the cases above, the JS one.
  { name: 'resnet 3x3 s2 same (SIMD)', x: [2, 9, 8, 8], size: 3, stride: 2, pad: 'same', values: 'signed' },
  {
    name: 'resnet 3x3 s2 pad 1, relu ties (SIMD)',
    x: [2, 8, 8, 12],
    size: 3,
    stride: 2,
    pad: pad(1),
    values: 'relu',
  },
  {
    name: 'vgg 2x2 s2 valid, all negative (SIMD)',
    x: [2, 7, 6, 16],
    size: 2,
    stride: 2,
    pad: 'valid',
    values: 'negative',
  },
  {
    name: 'score head 2x2 s2 valid (SIMD)',
    x: [3, 6, 6, 8],
    size: 2,
    stride: 2,
    pad: 'valid',
    values: 'signed',
  },
  {
    name: 'fine-stride 2x2 s1 valid (SIMD)',
    x: [1, 5, 5, 4],
    size: 2,
    stride: 1,
    pad: 'valid',
    values: 'signed',
  },
];

afterAll(async () => {
  await useBackend('cpu');
});

describe('registerWasmTrainingKernels', () => {
  it('is idempotent and leaves the gradient kernels registered for wasm only', async () => {
    registerWasmTrainingKernels();
    registerWasmTrainingKernels();
    for (const name of [
      'Conv2DBackpropFilter',
      'Conv2DBackpropInput',
      'DepthwiseConv2dNativeBackpropFilter',
      'DepthwiseConv2dNativeBackpropInput',
      'MaxPoolGrad',
    ]) {
      expect(tf.getKernel(name, 'wasm'), name).toBeDefined();
    }
  });
});

describe.each(CONV_CASES)('conv2d $name', (c) => {
  it('Conv2DBackpropFilter and Conv2DBackpropInput equal cpu within the tolerance', async () => {
    const { cpu, wasm } = await convolutionGradients(c);
    expect(maxAbsDifference(wasm[0], cpu[0])).toBeLessThan(toleranceOf(c));
    expect(maxAbsDifference(wasm[1], cpu[1])).toBeLessThan(toleranceOf(c));
  });
});

describe.each(CONV_CASES.filter((c) => c.name.includes('Winograd')))('conv2d $name on wasm', (c) => {
  it("takes dx by Winograd from the transform of the filter's taps reversed, no transposed copy", async () => {
    await useBackend('wasm');
    const { winograd } = simdKernels(tf.backend())!;
    const values = randomValues(sizeOf(c.filter), 7);
    const dy = tf.tensor4d(randomValues(sizeOf(outShape(c, false)), 6), outShape(c, false));
    const filter = tf.tensor4d(values, c.filter);
    const attrs = { strides: [1, 1], pad: c.pad, dataFormat: 'NHWC', inputShape: c.x };
    // The filters transformed, copied as they are (the kernel frees its intermediates).
    const transformed: Float32Array[] = [];
    const transforms = [winograd[2], winograd[4]].map((variant) => {
      const transform = variant.filter;
      return vi.spyOn(variant, 'filter').mockImplementation((source, tiles) => {
        transformed.push(source.slice());
        return transform(source, tiles);
      });
    });
    try {
      tf.dispose(
        tf.engine().runKernel('Conv2DBackpropInput', { dy, filter }, attrs as unknown as tf.NamedAttrMap),
      );
      expect(transformed).toHaveLength(1);
      // [3, 3, C, O] with tap t where tap 8 - t was: the rotated filter, its channels not swapped.
      const tap = c.filter[2] * c.filter[3];
      const reversed = Array.from({ length: 9 }, (_, t) => values.subarray((8 - t) * tap, (9 - t) * tap));
      expect(Array.from(transformed[0])).toEqual(reversed.flatMap((taps) => Array.from(taps)));
    } finally {
      for (const spy of transforms) spy.mockRestore();
      tf.dispose([dy, filter]);
    }
  });
});

/** Whether `run` (kernels on wasm, in a tidy) calls our product's tap-by-tap `method`. */
async function goesTapByTap(method: 'filterGradient' | 'inputGradient', run: () => void): Promise<boolean> {
  await useBackend('wasm');
  const product = packedProduct(wasmMemoryOf(tf.backend()) as WebAssembly.Memory);
  expect(product).not.toBeNull();
  const taps = vi.spyOn(product!, method);
  try {
    tf.tidy(run);
    return taps.mock.calls.length > 0;
  } finally {
    taps.mockRestore();
  }
}

/** A convolution case's dW and dx kernels on random dy (and x, filter). */
function runFilterGradient(c: ConvCase): void {
  const x = tf.tensor4d(randomValues(sizeOf(c.x), 5), c.x);
  const dy = tf.tensor4d(randomValues(sizeOf(outShape(c, false)), 6), outShape(c, false));
  const attrs = { strides: [c.stride, c.stride], pad: c.pad, dataFormat: 'NHWC', filterShape: c.filter };
  tf.engine().runKernel('Conv2DBackpropFilter', { x, dy }, attrs as unknown as tf.NamedAttrMap);
}

function runInputGradient(c: ConvCase): void {
  const dy = tf.tensor4d(randomValues(sizeOf(outShape(c, false)), 6), outShape(c, false));
  const filter = tf.tensor4d(randomValues(sizeOf(c.filter), 7), c.filter);
  const attrs = { strides: [c.stride, c.stride], pad: c.pad, dataFormat: 'NHWC', inputShape: c.x };
  tf.engine().runKernel('Conv2DBackpropInput', { dy, filter }, attrs as unknown as tf.NamedAttrMap);
}

describe('Conv2DBackpropFilter and Conv2DBackpropInput on wasm, tap by tap', () => {
  it.each(CONV_CASES)('dW sums tap by tap exactly for the small cases: $name', async (c) => {
    expect(await goesTapByTap('filterGradient', () => runFilterGradient(c))).toBe(
      c.name.startsWith('direct taps'),
    );
  });

  it.each(CONV_CASES)('dx adds tap by tap exactly for the small windowed cases: $name', async (c) => {
    expect(await goesTapByTap('inputGradient', () => runInputGradient(c))).toBe(
      c.name.startsWith('direct input taps'),
    );
  });

  // dW above 2^25 multiply-adds: tap by tap only for at most 2048 channel pairs (C x O).
  it.each([
    {
      c: {
        name: '7x7 s2 of 3 x 64 channels, 97M multiply-adds',
        x: [2, 148, 140, 3],
        filter: [7, 7, 3, 64],
        stride: 2,
      },
      taps: true,
    },
    {
      c: {
        name: '1x1 of 64 x 64 channels, 37M multiply-adds',
        x: [1, 100, 90, 64],
        filter: [1, 1, 64, 64],
        stride: 1,
      },
      taps: false,
    },
  ] as Array<{ c: Omit<ConvCase, 'pad'>; taps: boolean }>)(
    'dW $c.name: tap by tap $taps',
    async ({ c, taps }) => {
      expect(await goesTapByTap('filterGradient', () => runFilterGradient({ ...c, pad: 'same' }))).toBe(taps);
    },
  );

  // dx: tap by tap for at most 2048 channel pairs.
  it.each([
    { channels: 32, outChannels: 64, taps: true },
    { channels: 64, outChannels: 64, taps: false },
  ])('dx of a 3x3 s2 filter of $channels x $outChannels channels: tap by tap $taps', async (c) => {
    const name = `${c.channels} x ${c.outChannels}`;
    const conv: ConvCase = {
      name,
      x: [2, 8, 8, c.channels],
      filter: [3, 3, c.channels, c.outChannels],
      stride: 2,
      pad: 'same',
    };
    expect(await goesTapByTap('inputGradient', () => runInputGradient(conv))).toBe(c.taps);
  });
});

describe.each(CONV_CASES)('conv2d $name, one output position per window matrix', (c) => {
  it('sums the chunks to the same gradients as cpu', async () => {
    const budget = setWindowMatrixBudget(1);
    try {
      const { cpu, wasm } = await convolutionGradients(c);
      expect(maxAbsDifference(wasm[0], cpu[0])).toBeLessThan(toleranceOf(c));
      expect(maxAbsDifference(wasm[1], cpu[1])).toBeLessThan(toleranceOf(c));
    } finally {
      setWindowMatrixBudget(budget);
    }
  });
});

describe.each(DEPTHWISE_CASES)('depthwiseConv2d $name', (c) => {
  it('DepthwiseConv2dNativeBackpropFilter and ...BackpropInput equal cpu within 1e-4', async () => {
    const { cpu, wasm } = await convolutionGradients(c, true);
    expect(maxAbsDifference(wasm[0], cpu[0])).toBeLessThan(TOLERANCE);
    expect(maxAbsDifference(wasm[1], cpu[1])).toBeLessThan(TOLERANCE);
  });
});

describe.each(POOL_CASES)('maxPool $name', (c) => {
  it('MaxPoolGrad equals cpu within 1e-4', async () => {
    await useBackend('cpu');
    const pooled = tf.maxPool(tf.zeros(c.x) as tf.Tensor4D, c.size, c.stride, c.pad);
    const dyShape = pooled.shape;
    pooled.dispose();
    const signed = randomValues(sizeOf(c.x), 31);
    const xValues = signed.map((v) =>
      c.values === 'relu' ? Math.max(v, 0) : c.values === 'negative' ? -1 - v : v,
    );
    const dyValues = randomValues(sizeOf(dyShape), 32);
    const { cpu, wasm } = await onBothBackends(() => {
      const x = tf.tensor4d(xValues, c.x);
      const y = tf.maxPool(x, c.size, c.stride, c.pad);
      const dy = tf.tensor4d(dyValues, dyShape);
      const attrs = { filterSize: [c.size, c.size], strides: [c.stride, c.stride], pad: c.pad };
      return tf.engine().runKernel('MaxPoolGrad', { dy, input: x, output: y }, attrs) as tf.Tensor;
    });
    expect(maxAbsDifference(wasm[0], cpu[0])).toBeLessThan(TOLERANCE);
  });
});
