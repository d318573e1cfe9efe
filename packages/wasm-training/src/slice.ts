import {
  type KernelConfig,
  type KernelFunc,
  Slice,
  type SliceAttrs,
  slice_util,
  type TensorInfo,
  util,
} from '@tensorflow/tfjs-core';
import { copyRun, type HeapArray, isHeapDType, type WasmHeap } from './wasm-heap.js';
import { adoptedWasmKernel, wasmSetupOf } from './wasm-originals.js';

/**
 * Copies only the kept values, straight between views of wasm memory. wasm's Slice (tfjs 4.22) first
 * copies its whole input out of the heap (`readSync`), however little it keeps: ~360 ms on the threaded
 * build to take 1800 rows of a [1, 200704, 128] tensor. Strings, which wasm keeps outside its heap, go to
 * wasm's own kernel.
 */
function slice(args: { inputs: { x: TensorInfo }; backend: unknown; attrs: SliceAttrs }): TensorInfo {
  const { x } = args.inputs;
  if (!isHeapDType(x.dtype)) return adoptedWasmKernel(Slice).kernelFunc(args as never) as TensorInfo;
  const [begin, size] = slice_util.parseSliceParams(x, args.attrs.begin, args.attrs.size);
  slice_util.assertParamsValid(x, begin, size);
  const heap = args.backend as WasmHeap;
  const out = heap.makeOutput(size, x.dtype);
  if (util.sizeFromShape(size) === 0) return out;
  // Views taken after the allocation, which can grow the heap and detach older ones.
  const [from, to] = [heap.typedArrayFromHeap(x), heap.typedArrayFromHeap(out)];
  if (slice_util.isSliceContinous(x.shape, begin, size)) {
    const start = slice_util.computeFlatOffset(begin, util.computeStrides(x.shape));
    to.set(from.subarray(start, start + to.length));
  } else {
    copySteppedRuns(from, x.shape, begin, new Array<number>(x.shape.length).fill(1), size, to);
  }
  return out;
}

/**
 * Copies a slice of x (`shape`) that starts at `begin` and takes `size` values `steps` apart on each axis
 * (steps of at least 1), run by run in output order. A run spans the axes from `inner` on: contiguous in x
 * because the innermost axis steps by 1 and every axis after `inner` is kept whole; an odometer walks the
 * axes before it.
 */
export function copySteppedRuns(
  from: HeapArray,
  shape: number[],
  begin: number[],
  steps: number[],
  size: number[],
  to: HeapArray,
): void {
  const rank = shape.length;
  let inner = steps[rank - 1] === 1 ? rank - 1 : rank;
  while (inner > 0 && inner < rank && size[inner] === shape[inner] && steps[inner - 1] === 1) inner--;
  const strides = [...util.computeStrides(shape), 1];
  const runLength = util.sizeFromShape(size.slice(inner));
  const index = new Array<number>(inner).fill(0);
  let start = begin.reduce((offset, b, axis) => offset + b * strides[axis], 0);
  for (let at = 0; at < to.length; at += runLength) {
    copyRun(from, start, to, at, runLength);
    for (let axis = inner - 1; axis >= 0; axis--) {
      start += steps[axis] * strides[axis];
      if (++index[axis] < size[axis]) break;
      start -= size[axis] * steps[axis] * strides[axis];
      index[axis] = 0;
    }
  }
}

export const sliceConfig: KernelConfig = {
  kernelName: Slice,
  backendName: 'wasm',
  setupFunc: wasmSetupOf(Slice),
  kernelFunc: slice as unknown as KernelFunc,
};
