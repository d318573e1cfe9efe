import {
  Add,
  type BinaryInputs,
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
  const channels = x.shape[x.shape.length - 1];
  const period = channels % 4 === 0 ? channels : channels % 2 === 0 ? 2 * channels : 4 * channels;
  const pattern = scope.allocate([period]);
  const out = scope.allocate(x.shape);
  const [values, tiled] = [scope.floats(perChannel), scope.floats(pattern)];
  for (let at = 0; at < period; at += channels) tiled.set(values, at);
  return simd.channelOp(scope.floats(x), tiled, scope.floats(out), kind) ? out : null;
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
