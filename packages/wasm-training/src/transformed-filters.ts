import type { TensorInfo } from '@tensorflow/tfjs-core';
import type { WasmHeap } from './wasm-heap.js';

interface DisposingBackend extends WasmHeap {
  disposeData(dataId: object, force?: boolean): boolean;
}

/** A filter's transformed matrices, by the transform that made them (one filter may take two tile sizes). */
type FilterTransforms = Map<object, TensorInfo[]>;

/** Per backend: each filter's transforms, by the filter's data. */
const byBackend = new WeakMap<object, Map<object, FilterTransforms>>();

/**
 * The matrices that `transform` makes of `filter` (allocated with `allocate`, in the backend's memory) for
 * `variant`, made on the first call and kept until the filter is disposed: a layer's weights at inference
 * are transformed once, and XNNPACK, which caches its packing by the operand's data, packs each matrix once
 * (our packed product keeps its packing here too, as a variant of the matrix).
 */
export function transformedFilter(
  backend: unknown,
  filter: TensorInfo,
  variant: object,
  transform: (allocate: (shape: number[]) => TensorInfo) => TensorInfo[],
): TensorInfo[] {
  const heap = backend as DisposingBackend;
  const cache = filterCache(heap);
  const transforms = cache.get(filter.dataId) ?? new Map<object, TensorInfo[]>();
  const cached = transforms.get(variant);
  if (cached !== undefined) return cached;
  const made: TensorInfo[] = [];
  try {
    const matrices = transform((shape) => {
      const info = heap.makeOutput(shape, 'float32');
      made.push(info);
      return info;
    });
    transforms.set(variant, matrices);
    cache.set(filter.dataId, transforms);
    return matrices;
  } catch (error) {
    for (const info of made) heap.disposeData(info.dataId, true);
    throw error;
  }
}

/** The backend's cache, its `disposeData` made to release a filter's matrices with the filter. */
function filterCache(backend: DisposingBackend): Map<object, FilterTransforms> {
  const existing = byBackend.get(backend);
  if (existing !== undefined) return existing;
  const cache = new Map<object, FilterTransforms>();
  byBackend.set(backend, cache);
  const dispose = backend.disposeData.bind(backend);
  backend.disposeData = (dataId, force) => {
    const freed = dispose(dataId, force);
    const transforms = freed ? cache.get(dataId) : undefined;
    if (transforms !== undefined) {
      cache.delete(dataId);
      // Through the hooked method: a kept matrix may have kept transforms of its own (its packing).
      for (const info of [...transforms.values()].flat()) backend.disposeData(info.dataId, true);
    }
    return freed;
  };
  return cache;
}
