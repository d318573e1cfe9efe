import type { TensorInfo } from '@tensorflow/tfjs-core';
import type { WasmHeap } from './wasm-heap.js';

interface DisposingBackend extends WasmHeap {
  disposeData(dataId: object, force?: boolean): boolean;
}

/** Per backend: each filter's transformed matrices, by the filter's data. */
const byBackend = new WeakMap<object, Map<object, TensorInfo[]>>();

/**
 * The matrices that `transform` makes of `filter` (allocated with `allocate`, in the backend's memory),
 * made on the first call for this filter and kept until the filter is disposed: a layer's weights at
 * inference are transformed once, and XNNPACK, which caches its packing by the operand's data, packs each
 * matrix once. A filter used once (a training step's) is released with it.
 */
export function transformedFilter(
  backend: unknown,
  filter: TensorInfo,
  transform: (allocate: (shape: number[]) => TensorInfo) => TensorInfo[],
): TensorInfo[] {
  const cache = filterCache(backend as DisposingBackend);
  const cached = cache.get(filter.dataId);
  if (cached !== undefined) return cached;
  const heap = backend as DisposingBackend;
  const made: TensorInfo[] = [];
  try {
    const matrices = transform((shape) => {
      const info = heap.makeOutput(shape, 'float32');
      made.push(info);
      return info;
    });
    cache.set(filter.dataId, matrices);
    return matrices;
  } catch (error) {
    for (const info of made) heap.disposeData(info.dataId, true);
    throw error;
  }
}

/** The backend's cache, its `disposeData` made to release a filter's matrices with the filter. */
function filterCache(backend: DisposingBackend): Map<object, TensorInfo[]> {
  const existing = byBackend.get(backend);
  if (existing !== undefined) return existing;
  const cache = new Map<object, TensorInfo[]>();
  byBackend.set(backend, cache);
  const dispose = backend.disposeData.bind(backend);
  backend.disposeData = (dataId, force) => {
    const freed = dispose(dataId, force);
    const matrices = freed ? cache.get(dataId) : undefined;
    if (matrices !== undefined) {
      cache.delete(dataId);
      for (const info of matrices) dispose(info.dataId, true);
    }
    return freed;
  };
  return cache;
}
