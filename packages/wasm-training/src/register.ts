import { getKernel, type KernelConfig, registerKernel, unregisterKernel } from '@tensorflow/tfjs-core';
import { adoptWasmBatchMatMul, batchMatMulConfig } from './batch-mat-mul.js';
import { conv2DBackpropFilterConfig } from './conv2d-backprop-filter.js';
import { conv2DBackpropInputConfig } from './conv2d-backprop-input.js';
import { depthwiseBackpropFilterConfig } from './depthwise-backprop-filter.js';
import { depthwiseBackpropInputConfig } from './depthwise-backprop-input.js';
import { identityConfig } from './identity.js';
import { maxPoolGradConfig } from './max-pool-grad.js';

/**
 * Kernels that tfjs-backend-wasm 4.22 lacks, its scalar Conv2DBackpropInput (replaced for speed), its
 * MaxPoolGrad (replaced because it loses gradient), its BatchMatMul (wrapped: transposed operands take
 * a scalar path) and its Identity (copies every tensor that a gradient keeps; now shared).
 */
export const WASM_TRAINING_KERNELS: readonly KernelConfig[] = [
  conv2DBackpropFilterConfig,
  conv2DBackpropInputConfig,
  depthwiseBackpropFilterConfig,
  depthwiseBackpropInputConfig,
  maxPoolGradConfig,
  batchMatMulConfig,
  identityConfig,
];

/**
 * Registers the gradient kernels for backend 'wasm'. Idempotent; call it before the first gradient
 * (before or after the wasm backend initialised).
 */
export function registerWasmTrainingKernels(): void {
  for (const config of WASM_TRAINING_KERNELS) {
    const existing = getKernel(config.kernelName, 'wasm');
    if (existing?.kernelFunc === config.kernelFunc) continue;
    if (existing !== undefined) {
      if (config === batchMatMulConfig) adoptWasmBatchMatMul(existing);
      unregisterKernel(config.kernelName, 'wasm');
    }
    registerKernel(config);
  }
}
