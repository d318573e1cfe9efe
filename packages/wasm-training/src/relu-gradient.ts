import type { KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';
import { WasmKernelScope } from './wasm-kernel-scope.js';

/**
 * The kernel behind `@deepmask/model`'s ReLU and ReLU6 gradients (inputs dy and y, attribute `cap`: output
 * dy where 0 < y <= cap, else 0, NaN where y is NaN; cap +Infinity for a ReLU, 6 for a ReLU6, whose input
 * y is), which the model runs where a backend registers it and otherwise computes as Step, Sub and
 * Multiply: here one pass of our SIMD module instead of two to five kernels and their intermediates.
 */
export const ReluGradient = 'DeepMaskReluGradient';

function reluGradientKernel(args: {
  inputs: { dy: TensorInfo; y: TensorInfo };
  backend: unknown;
  attrs?: { cap?: number };
}): TensorInfo {
  const { dy, y } = args.inputs;
  const cap = args.attrs?.cap ?? Number.POSITIVE_INFINITY;
  if (dy.dtype !== 'float32' || y.dtype !== 'float32' || dy.shape.join() !== y.shape.join()) {
    throw new Error(
      `${ReluGradient}: dy (${dy.dtype} [${dy.shape}]) and y (${y.dtype} [${y.shape}]) must be float32 of one shape`,
    );
  }
  const scope = new WasmKernelScope(args.backend as never);
  const out = scope.allocate(dy.shape);
  const [dyValues, yValues, outValues] = [scope.floats(dy), scope.floats(y), scope.floats(out)];
  // Without our SIMD module (wasm's plain build): the same values in a loop here.
  if (!scope.simd()?.reluGradient(dyValues, yValues, outValues, cap)) {
    for (let i = 0; i < dyValues.length; i++) {
      const v = yValues[i];
      outValues[i] = dyValues[i] * (Number.isNaN(v) ? v : v > 0 && v <= cap ? 1 : 0);
    }
  }
  return scope.finish(out);
}

export const reluGradientConfig: KernelConfig = {
  kernelName: ReluGradient,
  backendName: 'wasm',
  kernelFunc: reluGradientKernel as unknown as KernelFunc,
};
