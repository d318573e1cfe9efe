import { getKernel, type KernelConfig, registerKernel, unregisterKernel } from '@tensorflow/tfjs-core';
import { batchMatMulConfig } from './batch-mat-mul.js';
import { addConfig, batchNormConfig, multiplyConfig } from './channel-op.js';
import { concatConfig } from './concat.js';
import { conv2DConfig, fusedConv2DConfig } from './conv2d.js';
import { conv2DBackpropFilterConfig } from './conv2d-backprop-filter.js';
import { conv2DBackpropInputConfig } from './conv2d-backprop-input.js';
import { depthwiseBackpropFilterConfig } from './depthwise-backprop-filter.js';
import { depthwiseBackpropInputConfig } from './depthwise-backprop-input.js';
import { depthwiseConv2dConfig, fusedDepthwiseConv2dConfig } from './depthwise-conv2d.js';
import { fusedMatMulConfig } from './fused-mat-mul.js';
import { identityConfig } from './identity.js';
import { maxPoolGradConfig } from './max-pool-grad.js';
import { padV2Config } from './pad.js';
import { reluGradientConfig } from './relu-gradient.js';
import { sgdMomentumConfig } from './sgd-momentum.js';
import { sliceConfig } from './slice.js';
import { stridedSliceConfig } from './strided-slice.js';
import { sumConfig } from './sum.js';
import { adoptWasmKernel } from './wasm-originals.js';

/**
 * Kernels that tfjs-backend-wasm 4.22 lacks, its scalar Conv2DBackpropInput (replaced for speed), its
 * MaxPoolGrad (replaced because it loses gradient), its BatchMatMul (wrapped: transposed operands take
 * a scalar path), its _FusedMatMul (the same, and every fresh weight packed however little it is used),
 * its Identity (copies every tensor that a gradient keeps; now shared), its Slice and StridedSlice
 * (copy the whole input out of wasm memory first), its PadV2 (value by value), its Concat (a subarray per block, however short) and its
 * Sum over leading axes (transposes them innermost first: every bias gradient), its Add and Multiply of a
 * per-channel operand (an index per value) and its FusedBatchNorm with a zero mean (an input normalisation; the
 * same); its Conv2D and FusedConv2D
 * (wrapped: 3x3 stride-1 convolutions by Winograd); its DepthwiseConv2dNative and FusedDepthwiseConv2D
 * (wrapped: one filter per channel on both threads of our product); `sgdMomentumStep`'s one-pass update and the one-pass
 * ReLU gradient that `@deepmask/model` runs where it is registered (`relu-gradient.ts`).
 */
export const WASM_TRAINING_KERNELS: readonly KernelConfig[] = [
  conv2DBackpropFilterConfig,
  conv2DBackpropInputConfig,
  depthwiseBackpropFilterConfig,
  depthwiseBackpropInputConfig,
  maxPoolGradConfig,
  batchMatMulConfig,
  fusedMatMulConfig,
  identityConfig,
  sliceConfig,
  stridedSliceConfig,
  padV2Config,
  concatConfig,
  sumConfig,
  addConfig,
  multiplyConfig,
  batchNormConfig,
  sgdMomentumConfig,
  reluGradientConfig,
  conv2DConfig,
  fusedConv2DConfig,
  depthwiseConv2dConfig,
  fusedDepthwiseConv2dConfig,
];

/**
 * Registers the gradient kernels for backend 'wasm', keeping each wasm kernel they replace for those that
 * delegate to it. Idempotent; call it before the first gradient (before or after the wasm backend
 * initialised).
 */
export function registerWasmTrainingKernels(): void {
  for (const config of WASM_TRAINING_KERNELS) {
    const existing = getKernel(config.kernelName, 'wasm');
    if (existing?.kernelFunc === config.kernelFunc) continue;
    if (existing !== undefined) {
      adoptWasmKernel(existing);
      unregisterKernel(config.kernelName, 'wasm');
    }
    registerKernel(config);
  }
}
