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
    copyKeptRuns(from, x.shape, begin, size, to);
  }
  return out;
}

/**
 * Copies the slice run by run, in output order. A run spans the axes from `inner` on, contiguous in x
 * because every axis after `inner` is kept whole; an odometer walks the axes before it.
 */
function copyKeptRuns(
  from: HeapArray,
  shape: number[],
  begin: number[],
  size: number[],
  to: HeapArray,
): void {
  let inner = shape.length - 1;
  while (inner > 0 && size[inner] === shape[inner]) inner--;
  const strides = [...util.computeStrides(shape), 1];
  const runLength = util.sizeFromShape(size.slice(inner));
  const index = new Array<number>(inner).fill(0);
  let start = begin.reduce((offset, b, axis) => offset + b * strides[axis], 0);
  for (let at = 0; at < to.length; at += runLength) {
    copyRun(from, start, to, at, runLength);
    for (let axis = inner - 1; axis >= 0; axis--) {
      start += strides[axis];
      if (++index[axis] < size[axis]) break;
      start -= size[axis] * strides[axis];
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
