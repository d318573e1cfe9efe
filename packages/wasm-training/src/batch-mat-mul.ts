import {
  BatchMatMul,
  type BatchMatMulAttrs,
  type KernelConfig,
  type KernelFunc,
  type TensorInfo,
} from '@tensorflow/tfjs-core';
import { planProduct, runProduct } from './matrix-product.js';
import { WasmKernelScope } from './wasm-kernel-scope.js';
import { adoptedWasmKernel, wasmSetupOf } from './wasm-originals.js';

/**
 * tfjs-backend-wasm 4.22 runs BatchMatMul on XNNPACK (SIMD, threaded) only when neither operand is
 * transposed and both have batch 1; anything else falls to a scalar single-threaded loop, and every
 * matmul gradient transposes an operand. This kernel hands wasm's kernel only that fast form, by the
 * cheapest plan (`planProduct`). Other batched cases go to wasm as is.
 */
function batchMatMul(args: {
  inputs: { a: TensorInfo; b: TensorInfo };
  backend: unknown;
  attrs: BatchMatMulAttrs;
}): TensorInfo {
  const { a, b } = args.inputs;
  const plan = planProduct(a, b, args.attrs.transposeA, args.attrs.transposeB, args.backend);
  if (plan === null) return adoptedWasmKernel(BatchMatMul).kernelFunc(args as never) as TensorInfo;
  const scope = new WasmKernelScope(args.backend as never);
  return scope.finish(runProduct(scope, args.backend, plan));
}

export const batchMatMulConfig: KernelConfig = {
  kernelName: BatchMatMul,
  backendName: 'wasm',
  setupFunc: wasmSetupOf(BatchMatMul),
  kernelFunc: batchMatMul as unknown as KernelFunc,
};
