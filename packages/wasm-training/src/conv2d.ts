import {
  Conv2D,
  type Conv2DAttrs,
  type Conv2DInputs,
  FusedConv2D,
  type FusedConv2DAttrs,
  type KernelConfig,
  type KernelFunc,
  type TensorInfo,
} from '@tensorflow/tfjs-core';
import { addBiasAndActivate, pendingEpilogue } from './activation.js';
import type { ConvolutionForm } from './conv-geometry.js';
import { directConvolution } from './direct-convolution.js';
import { largeFilterConvolution } from './large-filter-winograd.js';
import type { PendingEpilogue } from './matrix-product.js';
import { pointwiseConvolution } from './pointwise-conv2d.js';
import { WasmKernelScope } from './wasm-kernel-scope.js';
import { adoptedWasmKernel, wasmSetupOf } from './wasm-originals.js';
import { windowConvolution } from './window-conv2d.js';
import { winogradConvolution } from './winograd-conv2d.js';

/** Our forms of a convolution, in order: the first that takes it computes it. */
const FORMS: ConvolutionForm[] = [
  winogradConvolution,
  largeFilterConvolution,
  pointwiseConvolution,
  directConvolution,
  windowConvolution,
];

/**
 * Filters seen before. A fresh one (every training step's, and each input gradient's rotated filter) is
 * packed by XNNPACK whichever form runs; one seen before is a layer at inference, already packed for wasm's
 * own convolution, which then takes more of the convolutions.
 */
const filtersSeen = new WeakSet<object>();

function ourConvolution(
  scope: WasmKernelScope,
  x: TensorInfo,
  filter: TensorInfo,
  attrs: Conv2DAttrs,
  epilogue?: PendingEpilogue,
) {
  const freshFilter = !filtersSeen.has(filter.dataId);
  filtersSeen.add(filter.dataId);
  for (const form of FORMS) {
    const y = form(scope, x, filter, attrs, freshFilter, epilogue);
    if (y !== null) return y;
  }
  return null;
}

/**
 * wasm's Conv2D, with 3x3 and 7s x 7s stride-1 convolutions by Winograd (`winograd-conv2d.ts`,
 * `large-filter-winograd.ts`), 1x1 ones as a planned product (`pointwise-conv2d.ts`) and strided ones of
 * 64+ outputs as a window matrix times the filter (`window-conv2d.ts`); everything else goes to wasm's own
 * kernel.
 */
function conv2D(args: { inputs: Conv2DInputs; backend: unknown; attrs: Conv2DAttrs }): TensorInfo {
  const { x, filter } = args.inputs as { x: TensorInfo; filter: TensorInfo };
  const scope = new WasmKernelScope(args.backend as never);
  const y = ourConvolution(scope, x, filter, args.attrs);
  if (y === null) return adoptedWasmKernel(Conv2D).kernelFunc(args as never) as TensorInfo;
  return scope.finish(y);
}

/**
 * The same for a conv layer (fused): a per-channel bias and a ReLU or ReLU6 applied as our packed product stores
 * y where a form's product goes there (1x1 and window-matrix convolutions), else after it (`channelOp`, or
 * wasm's kernels for other activations).
 */
function fusedConv2D(args: {
  inputs: { x: TensorInfo; filter: TensorInfo; bias?: TensorInfo; preluActivationWeights?: TensorInfo };
  backend: unknown;
  attrs: FusedConv2DAttrs;
}): TensorInfo {
  const { x, filter, bias, preluActivationWeights } = args.inputs;
  const scope = new WasmKernelScope(args.backend as never);
  const { activation, leakyreluAlpha } = args.attrs;
  const epilogue = pendingEpilogue(bias, activation, filter.shape[3]);
  const y = ourConvolution(scope, x, filter, args.attrs, epilogue);
  if (y === null) return adoptedWasmKernel(FusedConv2D).kernelFunc(args as never) as TensorInfo;
  if (epilogue?.applied) return scope.finish(y);
  return scope.finish(addBiasAndActivate(scope, y, bias, activation, preluActivationWeights, leakyreluAlpha));
}

export const conv2DConfig: KernelConfig = {
  kernelName: Conv2D,
  backendName: 'wasm',
  setupFunc: wasmSetupOf(Conv2D),
  kernelFunc: conv2D as unknown as KernelFunc,
};

export const fusedConv2DConfig: KernelConfig = {
  kernelName: FusedConv2D,
  backendName: 'wasm',
  setupFunc: wasmSetupOf(FusedConv2D),
  kernelFunc: fusedConv2D as unknown as KernelFunc,
};
