import {
  _FusedMatMul,
  type _FusedMatMulAttrs,
  type KernelConfig,
  type KernelFunc,
  type TensorInfo,
} from '@tensorflow/tfjs-core';
import { addBiasAndActivate, pendingEpilogue } from './activation.js';
import { isAsGiven, packedProductFor, planProduct, runProductWithBias } from './matrix-product.js';
import { WasmKernelScope } from './wasm-kernel-scope.js';
import { adoptedWasmKernel, wasmSetupOf } from './wasm-originals.js';

interface FusedInputs {
  a: TensorInfo;
  b: TensorInfo;
  bias?: TensorInfo;
  preluActivationWeights?: TensorInfo;
}

/**
 * A dense layer's product, bias and activation. wasm's own kernel is the BatchMatMul one with the bias and
 * the activation folded into XNNPACK; it is kept where it gets the operands as they are and our packed
 * product does not take the product. Elsewhere
 * (transposed operands: wasm's scalar loop; a weight seen for the first time, as in every training step:
 * packing a [100352, 512] weight took 1.1 s of a 20 ms product) the product follows `planProduct`, then
 * a per-channel bias and a ReLU or ReLU6 go into our packed product as it stores the result where it takes it as
 * planned, and otherwise the bias and the activation run after it (`addBiasAndActivate`).
 */
function fusedMatMul(args: { inputs: FusedInputs; backend: unknown; attrs: _FusedMatMulAttrs }): TensorInfo {
  const { a, b, bias, preluActivationWeights } = args.inputs;
  const { transposeA, transposeB, activation, leakyreluAlpha } = args.attrs;
  const plan = planProduct(a, b, transposeA, transposeB, args.backend);
  if (plan === null || (isAsGiven(plan) && packedProductFor(args.backend, plan) === null)) {
    return adoptedWasmKernel(_FusedMatMul).kernelFunc(args as never) as TensorInfo;
  }
  const scope = new WasmKernelScope(args.backend as never);
  const epilogue = pendingEpilogue(bias, activation, plan.n);
  const product = runProductWithBias(scope, plan, epilogue);
  if (epilogue?.applied) return scope.finish(product);
  return scope.finish(
    addBiasAndActivate(scope, product, bias, activation, preluActivationWeights, leakyreluAlpha),
  );
}

export const fusedMatMulConfig: KernelConfig = {
  kernelName: _FusedMatMul,
  backendName: 'wasm',
  setupFunc: wasmSetupOf(_FusedMatMul),
  kernelFunc: fusedMatMul as unknown as KernelFunc,
};
