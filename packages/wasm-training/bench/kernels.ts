import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { initWasmBackend } from '../src/index.js';
import { medianMs, runKernelSync } from './timing.js';

type Pad = 'same' | 'valid' | number[][];
type Shape4 = [number, number, number, number];
interface KernelCase {
  name: string;
  kernel: string;
  /** Builds the inputs and attributes on the active backend. */
  make: () => { inputs: Record<string, tf.Tensor>; attrs: Record<string, unknown> };
}

const kerasPad: Pad = [
  [0, 0],
  [0, 1],
  [0, 1],
  [0, 0],
];

function convCase(name: string, x: Shape4, filter: Shape4, stride: number, pad: Pad): KernelCase[] {
  const dyShape = () => {
    const y = tf.conv2d(tf.zeros(x) as tf.Tensor4D, tf.zeros(filter) as tf.Tensor4D, stride, pad as never);
    y.dispose();
    return y.shape;
  };
  const attrs = { strides: [stride, stride], pad, dataFormat: 'NHWC' };
  return [
    {
      name: `${name} filter`,
      kernel: 'Conv2DBackpropFilter',
      make: () => ({
        inputs: { x: tf.randomNormal(x), dy: tf.randomNormal(dyShape()) },
        attrs: { ...attrs, filterShape: filter },
      }),
    },
    {
      name: `${name} input`,
      kernel: 'Conv2DBackpropInput',
      make: () => ({
        inputs: { dy: tf.randomNormal(dyShape()), filter: tf.randomNormal(filter) },
        attrs: { ...attrs, inputShape: x },
      }),
    },
  ];
}

function depthwiseCase(name: string, x: Shape4, stride: number, pad: Pad): KernelCase[] {
  const filter: Shape4 = [3, 3, x[3], 1];
  const dyShape = () => {
    const y = tf.depthwiseConv2d(
      tf.zeros(x) as tf.Tensor4D,
      tf.zeros(filter) as tf.Tensor4D,
      stride,
      pad as never,
    );
    y.dispose();
    return y.shape;
  };
  const attrs = { strides: [stride, stride], dilations: [1, 1], pad };
  return [
    {
      name: `${name} filter`,
      kernel: 'DepthwiseConv2dNativeBackpropFilter',
      make: () => ({
        inputs: { x: tf.randomNormal(x), dy: tf.randomNormal(dyShape()) },
        attrs: { ...attrs, filterShape: filter },
      }),
    },
    {
      name: `${name} input`,
      kernel: 'DepthwiseConv2dNativeBackpropInput',
      make: () => ({
        inputs: { dy: tf.randomNormal(dyShape()), filter: tf.randomNormal(filter) },
        attrs: { ...attrs, inputShape: x },
      }),
    },
  ];
}

function maxPoolCase(name: string, x: Shape4, size: number, stride: number, pad: Pad): KernelCase {
  return {
    name,
    kernel: 'MaxPoolGrad',
    make: () => {
      const input = tf.randomNormal(x) as tf.Tensor4D;
      const output = tf.maxPool(input, size, stride, pad as never);
      return {
        inputs: { dy: tf.randomNormal(output.shape), input, output },
        attrs: { filterSize: [size, size], strides: [stride, stride], pad },
      };
    },
  };
}

function sliceCase(name: string, shape: number[], begin: number[], size: number[]): KernelCase {
  return { name, kernel: 'Slice', make: () => ({ inputs: { x: tf.ones(shape) }, attrs: { begin, size } }) };
}

function concatCase(name: string, shape: number[], count: number, axis: number): KernelCase {
  return {
    name,
    kernel: 'Concat',
    // Concat takes its inputs as a list.
    make: () => ({
      inputs: Array.from({ length: count }, () => tf.randomNormal(shape)) as never,
      attrs: { axis },
    }),
  };
}

function sumCase(name: string, shape: number[], axis: number[]): KernelCase {
  return {
    name,
    kernel: 'Sum',
    make: () => ({ inputs: { x: tf.randomNormal(shape) }, attrs: { axis, keepDims: false } }),
  };
}

// Layer shapes of the trunks at batch 2 (reduced widths, so that the cpu column ends in a minute or two).
export const KERNEL_CASES: KernelCase[] = [
  ...convCase('vgg 3x3 s1 [2,28,28,64]->64', [2, 28, 28, 64], [3, 3, 64, 64], 1, 'same'),
  ...convCase('resnet stem 7x7 s2 [2,112,112,3]->64', [2, 112, 112, 3], [7, 7, 3, 64], 2, 'same'),
  ...convCase('resnet 1x1 s1 [2,28,28,256]->64', [2, 28, 28, 256], [1, 1, 256, 64], 1, 'valid'),
  ...convCase('resnet 1x1 s2 [2,28,28,128]->256', [2, 28, 28, 128], [1, 1, 128, 256], 2, 'valid'),
  ...convCase('resnet 3x3 s2 [2,28,28,64]->64', [2, 28, 28, 64], [3, 3, 64, 64], 2, 'same'),
  ...convCase('mobilenet conv1 3x3 s2 [2,112,112,3]->32', [2, 112, 112, 3], [3, 3, 3, 32], 2, kerasPad),
  ...convCase('head 10x10 valid [2,10,10,128]->256', [2, 10, 10, 128], [10, 10, 128, 256], 1, 'valid'),
  ...depthwiseCase('mobilenet dw 3x3 s1 [2,56,56,128]', [2, 56, 56, 128], 1, 'same'),
  ...depthwiseCase('mobilenet dw 3x3 s2 [2,56,56,128]', [2, 56, 56, 128], 2, kerasPad),
  maxPoolCase('resnet maxpool 3x3 s2 [2,112,112,64]', [2, 112, 112, 64], 3, 2, 'same'),
  maxPoolCase('score maxpool 2x2 s2 [2,14,14,512]', [2, 14, 14, 512], 2, 2, 'valid'),
  sliceCase('1800 rows of [1,200704,128]', [1, 200704, 128], [0, 1000, 0], [1, 1800, 128]),
  sliceCase('crop [8,56,56,64] -> [8,50,50,64]', [8, 56, 56, 64], [0, 3, 3, 0], [8, 50, 50, 64]),
  concatCase('stack 2 x [8,56,56,1] (fine-stride)', [8, 56, 56, 1], 2, 3),
  sumCase('bias gradient [4,112,112,64] -> [64]', [4, 112, 112, 64], [0, 1, 2]),
];

export interface KernelTiming {
  case: string;
  kernel: string;
  wasmMs: number;
  cpuMs: number;
  /** wasm's own kernel where this package replaces one (Conv2DBackpropInput, MaxPoolGrad, Slice, ...). */
  wasmBuiltinMs?: number;
}

function timeOn(backend: string, c: KernelCase, repeats: number): number {
  tf.setBackend(backend);
  const { inputs, attrs } = c.make();
  const ms = medianMs(() => runKernelSync(c.kernel, inputs, attrs), repeats);
  tf.dispose(Object.values(inputs));
  return ms;
}

/** Times every case on wasm (one thread) and cpu in this process. */
export async function benchKernels(repeats: number): Promise<KernelTiming[]> {
  await tf.setBackend('cpu');
  // wasm's own kernels first, before this package replaces them.
  const { registerWasmTrainingKernels, WASM_TRAINING_KERNELS } = await import('../src/register.js');
  const builtin = new Map<string, number>();
  const wasmModule = await import('@tensorflow/tfjs-backend-wasm');
  wasmModule.setThreadsCount(1);
  await tf.setBackend('wasm');
  for (const c of KERNEL_CASES) {
    const own = tf.getKernel(c.kernel, 'wasm');
    if (own !== undefined && !WASM_TRAINING_KERNELS.some((k) => k.kernelFunc === own.kernelFunc)) {
      builtin.set(c.name, timeOn('wasm', c, repeats));
    }
  }
  registerWasmTrainingKernels();
  await initWasmBackend({ threads: 1 });
  const timings: KernelTiming[] = [];
  for (const c of KERNEL_CASES) {
    const wasmMs = timeOn('wasm', c, repeats);
    const cpuMs = timeOn('cpu', c, repeats);
    process.stderr.write(`${c.name} ${c.kernel}: wasm ${wasmMs.toFixed(1)} ms, cpu ${cpuMs.toFixed(1)} ms\n`);
    timings.push({
      case: c.name,
      kernel: c.kernel,
      wasmMs,
      cpuMs,
      ...(builtin.has(c.name) ? { wasmBuiltinMs: builtin.get(c.name) } : {}),
    });
  }
  return timings;
}
