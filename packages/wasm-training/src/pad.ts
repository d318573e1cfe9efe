import {
  type KernelConfig,
  type KernelFunc,
  PadV2,
  type PadV2Attrs,
  type TensorInfo,
  util,
} from '@tensorflow/tfjs-core';
import { copyRun, type HeapArray, isHeapDType, type WasmHeap } from './wasm-heap.js';
import { adoptedWasmKernel, wasmSetupOf } from './wasm-originals.js';

/**
 * Pads in runs straight between views of wasm memory: each border a `fill`, each run of x that stays
 * contiguous in the output one copy. wasm's PadV2 (tfjs 4.22) walks the output value by value: 0.6 ms for
 * ResNet-50's `[4, 10, 10, 256]` bottleneck middles padded for Winograd, 15 of them in a training step.
 * Strings, which wasm keeps outside its heap, go to wasm's own kernel.
 */
function padV2(args: { inputs: { x: TensorInfo }; backend: unknown; attrs: PadV2Attrs }): TensorInfo {
  const { x } = args.inputs;
  if (!isHeapDType(x.dtype)) return adoptedWasmKernel(PadV2).kernelFunc(args as never) as TensorInfo;
  const { paddings, constantValue } = args.attrs;
  if (
    paddings.length !== x.shape.length ||
    paddings.some(([before, after]) => !(before >= 0 && after >= 0))
  ) {
    throw new Error(
      `PadV2: paddings must be one [before, after] pair of non-negative amounts per axis of x ` +
        `(shape [${x.shape}]), got ${JSON.stringify(paddings)}`,
    );
  }
  const heap = args.backend as WasmHeap;
  const outShape = x.shape.map((size, axis) => paddings[axis][0] + size + paddings[axis][1]);
  const out = heap.makeOutput(outShape, x.dtype);
  if (util.sizeFromShape(outShape) === 0) return out;
  // Views taken after the allocation, which can grow the heap and detach older ones.
  const [from, to] = [heap.typedArrayFromHeap(x), heap.typedArrayFromHeap(out)];
  padRuns(from, x.shape, paddings, Number(constantValue), to);
  return out;
}

/**
 * Writes x (`shape`, values `from`) padded by `paddings` with `value` into `to`. The axes after the last
 * padded one are whole in both, so each slice of x along that axis is one contiguous run of the output;
 * the axes before it are walked, each one's leading and trailing borders filled whole.
 */
export function padRuns(
  from: HeapArray,
  shape: number[],
  paddings: Array<[number, number]>,
  value: number,
  to: HeapArray,
): void {
  let last = shape.length - 1;
  while (last >= 0 && paddings[last][0] === 0 && paddings[last][1] === 0) last--;
  if (last < 0 || from.length === 0) {
    if (last < 0) to.set(from);
    else to.fill(value);
    return;
  }
  const outShape = shape.map((size, axis) => paddings[axis][0] + size + paddings[axis][1]);
  const inStrides = [...util.computeStrides(shape), 1];
  const outStrides = [...util.computeStrides(outShape), 1];
  const fill = (axis: number, inAt: number, outAt: number): void => {
    const [before] = paddings[axis];
    const outStride = outStrides[axis];
    const inside = outAt + before * outStride;
    const after = inside + shape[axis] * outStride;
    to.fill(value, outAt, inside);
    if (axis === last) {
      copyRun(from, inAt, to, inside, shape[axis] * inStrides[axis]);
    } else {
      for (let i = 0; i < shape[axis]; i++)
        fill(axis + 1, inAt + i * inStrides[axis], inside + i * outStride);
    }
    to.fill(value, after, outAt + outShape[axis] * outStride);
  };
  fill(0, 0, 0);
}

export const padV2Config: KernelConfig = {
  kernelName: PadV2,
  backendName: 'wasm',
  setupFunc: wasmSetupOf(PadV2),
  kernelFunc: padV2 as unknown as KernelFunc,
};
