import {
  Add,
  type BinaryInputs,
  FusedBatchNorm,
  type FusedBatchNormAttrs,
  type KernelConfig,
  type KernelFunc,
  Multiply,
  type TensorInfo,
  util,
} from '@tensorflow/tfjs-core';
import type { ChannelOpKind } from './simd-kernels.js';
import { WasmKernelScope } from './wasm-kernel-scope.js';
import { adoptedWasmKernel, wasmSetupOf } from './wasm-originals.js';

/**
 * Whether `operand` holds one value per channel of `x` (`[C]`, or `[1, .., 1, C]` of no higher rank, C
 * x's last axis): then `x op operand` has x's shape and is a channel op.
 */
export function isPerChannel(x: TensorInfo, operand: TensorInfo): boolean {
  const rank = x.shape.length;
  const channels = x.shape[rank - 1];
  return (
    x.dtype === 'float32' &&
    operand.dtype === 'float32' &&
    rank >= 1 &&
    operand.shape.length >= 1 &&
    operand.shape.length <= rank &&
    operand.shape[operand.shape.length - 1] === channels &&
    operand.shape.slice(0, -1).every((size) => size === 1)
  );
}

/**
 * `x op perChannel` (then a ReLU where `kind.relu`) in one pass of our SIMD module, the per-channel values
 * tiled to whole vectors first (lcm(C, 4) of them); null where the module does not run (the caller goes on
 * its own way). `perChannel` must pass `isPerChannel(x, perChannel)`.
 */
export function channelOp(
  scope: WasmKernelScope,
  x: TensorInfo,
  perChannel: TensorInfo,
  kind: ChannelOpKind,
): TensorInfo | null {
  const simd = scope.simd();
  if (simd === null) return null;
  const pattern = scope.allocate([patternLength(x)]);
  const out = scope.allocate(x.shape);
  const tiled = tile(scope.floats(perChannel), scope.floats(pattern));
  return simd.channelOp(scope.floats(x), tiled, scope.floats(out), kind) ? out : null;
}

/** lcm(C, 4) for x's C channels: a per-channel operand tiled to whole vectors. */
function patternLength(x: TensorInfo): number {
  const channels = x.shape[x.shape.length - 1];
  return channels % 4 === 0 ? channels : channels % 2 === 0 ? 2 * channels : 4 * channels;
}

/** `pattern` filled with `perChannel`'s values over and over. */
function tile(perChannel: ArrayLike<number>, pattern: Float32Array): Float32Array {
  for (let at = 0; at < pattern.length; at += perChannel.length) pattern.set(perChannel, at);
  return pattern;
}

/**
 * Add and Multiply of a per-channel operand (a bias, a scale) and a larger tensor, in either order, by
 * `channelOp`: wasm's kernels broadcast by computing each value's indices (~1-3 ns a value; ours 0.1-0.2).
 * Every other Add and Multiply goes to wasm's kernel.
 */
function perChannelKernel(kernelName: string, op: ChannelOpKind['op']): KernelConfig {
  const kernelFunc = (args: { inputs: BinaryInputs; backend: unknown; attrs: object }): TensorInfo => {
    const { a, b } = args.inputs as { a: TensorInfo; b: TensorInfo };
    const [x, perChannel] = isPerChannel(a, b) ? [a, b] : isPerChannel(b, a) ? [b, a] : [];
    if (
      x !== undefined &&
      perChannel !== undefined &&
      util.sizeFromShape(x.shape) > x.shape[x.shape.length - 1]
    ) {
      const scope = new WasmKernelScope(args.backend as never);
      const out = channelOp(scope, x, perChannel, { op, relu: false });
      if (out !== null) return scope.finish(out);
      scope.finish([]);
    }
    return adoptedWasmKernel(kernelName).kernelFunc(args as never) as TensorInfo;
  };
  return {
    kernelName,
    backendName: 'wasm',
    setupFunc: wasmSetupOf(kernelName),
    kernelFunc: kernelFunc as unknown as KernelFunc,
  };
}

export const addConfig = perChannelKernel(Add, 'add');
export const multiplyConfig = perChannelKernel(Multiply, 'multiply');

/**
 * FusedBatchNorm with a mean of zeros, `x scale / sqrt(variance + eps) + offset` per channel (the model's
 * input normalisation, `x / std - mean / std`), in one pass of our SIMD module (`channelAffine`, in runs on
 * both threads from 2^17 values) where wasm's kernel computes each value's channel: the tiny model's
 * `[32, 64, 64, 3]` patches took 0.27 and 0.31 ms as a channel Multiply and Add, 0.13 ms in one pass on one
 * thread, 0.063 on two. With a nonzero mean (x - mean first, whose rounding a folded
 * offset would not keep) or anything but per-channel float32 operands, wasm's own kernel.
 */
function batchNorm(args: {
  inputs: { x: TensorInfo; mean: TensorInfo; variance: TensorInfo; offset?: TensorInfo; scale?: TensorInfo };
  backend: unknown;
  attrs: FusedBatchNormAttrs;
}): TensorInfo {
  const { x, mean, variance, offset, scale } = args.inputs;
  const operands = [mean, variance, ...(offset ? [offset] : []), ...(scale ? [scale] : [])];
  if (operands.every((operand) => isPerChannel(x, operand))) {
    const scope = new WasmKernelScope(args.backend as never);
    const simd = scope.simd();
    if (simd !== null && scope.floats(mean).every((m) => m === 0)) {
      const { varianceEpsilon } = args.attrs;
      const variances = scope.floats(variance);
      const scaleValues = scale ? scope.floats(scale) : variances.map(() => 1);
      const scales = variances.map((v, c) => scaleValues[c] / Math.sqrt(v + varianceEpsilon));
      const offsets = offset ? scope.floats(offset).slice() : variances.map(() => 0);
      const [scalePattern, offsetPattern] = [0, 1].map(() => scope.allocate([patternLength(x)]));
      const out = scope.allocate(x.shape);
      // Views after the last allocation (which may grow the memory).
      const tiled = [tile(scales, scope.floats(scalePattern)), tile(offsets, scope.floats(offsetPattern))];
      if (simd.channelAffine(scope.floats(x), tiled[0], tiled[1], scope.floats(out)))
        return scope.finish(out);
    }
    scope.finish([]);
  }
  return adoptedWasmKernel(FusedBatchNorm).kernelFunc(args as never) as TensorInfo;
}

export const batchNormConfig: KernelConfig = {
  kernelName: FusedBatchNorm,
  backendName: 'wasm',
  setupFunc: wasmSetupOf(FusedBatchNorm),
  kernelFunc: batchNorm as unknown as KernelFunc,
};
