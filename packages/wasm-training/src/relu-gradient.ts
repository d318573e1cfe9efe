import type { KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';
import { WasmKernelScope } from './wasm-kernel-scope.js';

/**
 * The kernel behind `@deepmask/model`'s ReLU gradients (inputs dy and y, output `dy step(y)`), which the
 * model runs where a backend registers it and otherwise computes as Step and Multiply: here one pass of
 * our SIMD module instead of two kernels and a step tensor.
 */
export const ReluGradient = 'DeepMaskReluGradient';

function reluGradientKernel(args: {
  inputs: { dy: TensorInfo; y: TensorInfo };
  backend: unknown;
}): TensorInfo {
  const { dy, y } = args.inputs;
  const scope = new WasmKernelScope(args.backend as never);
  if (dy.dtype === 'float32' && y.dtype === 'float32' && dy.shape.join() === y.shape.join()) {
    const out = scope.allocate(dy.shape);
    if (scope.simd()?.reluGradient(scope.floats(dy), scope.floats(y), scope.floats(out))) {
      return scope.finish(out);
    }
  }
  // Without our SIMD module (wasm's plain build): the two kernels.
  return scope.finish(scope.run('Multiply', { a: dy, b: scope.run('Step', { x: y }, { alpha: 0 }) }));
}

export const reluGradientConfig: KernelConfig = {
  kernelName: ReluGradient,
  backendName: 'wasm',
  kernelFunc: reluGradientKernel as unknown as KernelFunc,
};
