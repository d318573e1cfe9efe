import type { DataType, TensorInfo } from '@tensorflow/tfjs-core';

/** The dtypes whose values tfjs-backend-wasm keeps in its heap (strings stay in JS; complex64 is unsupported). */
export type HeapDType = 'float32' | 'int32' | 'bool';
export type HeapArray = Float32Array | Int32Array | Uint8Array;

/** The two methods of tfjs-backend-wasm's BackendWasm that reach its memory, for any heap dtype. */
export interface WasmHeap {
  makeOutput(shape: number[], dtype: DataType): TensorInfo;
  /** A view of the tensor's values in wasm memory (no copy); an allocation after it can detach it. */
  typedArrayFromHeap(info: TensorInfo): HeapArray;
}

interface EmscriptenModule {
  /** The threaded build's memory (created in JS, shared). */
  wasmMemory?: WebAssembly.Memory;
  /** The single-threaded build's memory (exported by its module). */
  asm?: { memory?: WebAssembly.Memory };
}

/** The wasm backend's memory, or null for another backend. */
export function wasmMemoryOf(backend: unknown): WebAssembly.Memory | null {
  const module = (backend as { wasm?: EmscriptenModule }).wasm;
  const memory = module?.wasmMemory ?? module?.asm?.memory;
  return memory instanceof WebAssembly.Memory ? memory : null;
}

export function isHeapDType(dtype: DataType): dtype is HeapDType {
  return dtype === 'float32' || dtype === 'int32' || dtype === 'bool';
}

/** Below this many values a run is copied value by value: a subarray per run costs more than the copy. */
const SHORT_RUN = 16;

/** Copies `length` values from `from[fromStart ..]` to `to[toStart ..]` (views of the same dtype). */
export function copyRun(
  from: HeapArray,
  fromStart: number,
  to: HeapArray,
  toStart: number,
  length: number,
): void {
  if (length < SHORT_RUN) {
    for (let k = 0; k < length; k++) to[toStart + k] = from[fromStart + k];
  } else {
    to.set(from.subarray(fromStart, fromStart + length), toStart);
  }
}
