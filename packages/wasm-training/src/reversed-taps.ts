import type { TensorInfo } from '@tensorflow/tfjs-core';
import type { WasmKernelScope } from './wasm-kernel-scope.js';

/**
 * `[fh, fw, C, O]` with its taps in reverse order: the filter rotated by 180 degrees, its channels as they
 * were (wasm's Reverse is a slow per-element loop). Allocated in `scope`.
 */
export function reversedTaps(scope: WasmKernelScope, filter: TensorInfo): TensorInfo {
  const [fh, fw, inChannels, outChannels] = filter.shape;
  const reversed = scope.allocate(filter.shape);
  const [source, target] = [scope.floats(filter), scope.floats(reversed)];
  const tap = inChannels * outChannels;
  for (let t = 0; t < fh * fw; t++) {
    target.set(source.subarray(t * tap, (t + 1) * tap), (fh * fw - 1 - t) * tap);
  }
  return reversed;
}
