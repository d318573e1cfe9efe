import type { _FusedMatMulAttrs, TensorInfo } from '@tensorflow/tfjs-core';
import { channelOp, isPerChannel } from './channel-op.js';
import type { PendingEpilogue } from './matrix-product.js';
import type { WasmKernelScope } from './wasm-kernel-scope.js';

/** A fused kernel's activation (`_FusedMatMul`, `FusedConv2D`) applied by wasm's own kernels. */
export function activate(
  scope: WasmKernelScope,
  x: TensorInfo,
  activation: _FusedMatMulAttrs['activation'],
  preluWeights: TensorInfo | undefined,
  leakyreluAlpha: number | undefined,
): TensorInfo {
  switch (activation) {
    case 'linear':
      return x;
    case 'relu':
      return scope.run('Relu', { x });
    case 'relu6':
      return scope.run('Relu6', { x });
    case 'elu':
      return scope.run('Elu', { x });
    case 'sigmoid':
      return scope.run('Sigmoid', { x });
    case 'leakyrelu':
      return scope.run('LeakyRelu', { x }, { alpha: leakyreluAlpha ?? 0.2 });
    case 'prelu':
      if (preluWeights === undefined) {
        throw new Error(
          '@deepmask/wasm-training: a fused kernel with prelu activation needs preluActivationWeights',
        );
      }
      return scope.run('Prelu', { x, alpha: preluWeights });
    default:
      throw new Error(`@deepmask/wasm-training: fused activation '${activation}' is not supported`);
  }
}

/**
 * A fused kernel's bias and activation after our product `y`: a per-channel bias with a linear or ReLU
 * activation in one pass (`channelOp`), anything else as wasm kernels (Add, then `activate`).
 */
export function addBiasAndActivate(
  scope: WasmKernelScope,
  y: TensorInfo,
  bias: TensorInfo | undefined,
  activation: _FusedMatMulAttrs['activation'],
  preluWeights: TensorInfo | undefined,
  leakyreluAlpha: number | undefined,
): TensorInfo {
  if (bias !== undefined && (activation === 'relu' || activation === 'linear') && isPerChannel(y, bias)) {
    const out = channelOp(scope, y, bias, { op: 'add', relu: activation === 'relu' });
    if (out !== null) return out;
  }
  const biased = bias === undefined ? y : scope.run('Add', { a: y, b: bias });
  return activate(scope, biased, activation, preluWeights, leakyreluAlpha);
}

/**
 * A fused kernel's bias and activation as an epilogue for our packed product (`runProductWithBias`): a
 * float32 bias of one value per channel with a ReLU, a ReLU6 or no activation; else undefined.
 */
export function pendingEpilogue(
  bias: TensorInfo | undefined,
  activation: _FusedMatMulAttrs['activation'],
  channels: number,
): PendingEpilogue | undefined {
  if (bias === undefined || (activation !== 'relu' && activation !== 'relu6' && activation !== 'linear')) {
    return undefined;
  }
  const perChannel =
    bias.dtype === 'float32' &&
    bias.shape.length >= 1 &&
    bias.shape[bias.shape.length - 1] === channels &&
    bias.shape.slice(0, -1).every((size) => size === 1);
  return perChannel ? { bias, activation, applied: false } : undefined;
}
