import {
  type KernelConfig,
  type KernelFunc,
  Sum,
  type SumAttrs,
  type SumInputs,
  type TensorInfo,
  util,
} from '@tensorflow/tfjs-core';
import { simdKernels } from './simd-kernels.js';
import type { HeapArray } from './wasm-heap.js';
import { WasmKernelScope } from './wasm-kernel-scope.js';
import { adoptedWasmKernel, wasmSetupOf } from './wasm-originals.js';

/**
 * Sums over leading axes (a bias gradient: dy [N, H, W, C] summed to [C]) as one pass over wasm memory in
 * float64, by our SIMD module where it runs (`columnSums`, on both threads from 2^20 values), else by
 * `sumRows`. wasm's Sum reduces only
 * innermost axes: it first transposes the reduced axes there (its Transpose moves 50-60M values/s) and
 * then adds in float32. Other reductions go to wasm's kernel.
 */
function sum(args: { inputs: SumInputs; backend: unknown; attrs: SumAttrs }): TensorInfo {
  const { x } = args.inputs as { x: TensorInfo };
  const { axis, keepDims } = args.attrs;
  const axes = util.parseAxisParam(axis, x.shape).sort((a, b) => a - b);
  const leading = axes.every((a, k) => a === k);
  if (x.dtype !== 'float32' || axes.length === 0 || !leading) {
    return adoptedWasmKernel(Sum).kernelFunc(args as never) as TensorInfo;
  }
  const reduced = axes.length;
  const rows = util.sizeFromShape(x.shape.slice(0, reduced));
  const width = util.sizeFromShape(x.shape.slice(reduced));
  const outShape = keepDims ? x.shape.map((size, a) => (a < reduced ? 1 : size)) : x.shape.slice(reduced);
  const scope = new WasmKernelScope(args.backend as never);
  const out = scope.allocate(outShape);
  const simd = simdKernels(args.backend);
  const scratch = simd === null ? null : scope.allocate([simd.columnSumsScratch(rows, width)]);
  const [values, totals] = [scope.floats(x), scope.floats(out)];
  if (scratch === null || !simd?.columnSums(values, rows, width, totals, scope.floats(scratch))) {
    totals.set(sumRows(values, rows, width));
  }
  return scope.finish(out);
}

/**
 * Column totals of a `[rows, width]` matrix in float64, four rows per pass: one store per four values
 * (a store per value made the totals' loads and stores the bottleneck: 3 ns per value, now ~1.5).
 */
function sumRows(values: HeapArray, rows: number, width: number): Float64Array {
  const totals = new Float64Array(width);
  let r = 0;
  for (; r + 4 <= rows; r += 4) {
    const at = r * width;
    const [second, third, fourth] = [at + width, at + 2 * width, at + 3 * width];
    for (let c = 0; c < width; c++) {
      totals[c] += values[at + c] + values[second + c] + values[third + c] + values[fourth + c];
    }
  }
  for (; r < rows; r++) {
    for (let c = 0, at = r * width; c < width; c++, at++) totals[c] += values[at];
  }
  return totals;
}

export const sumConfig: KernelConfig = {
  kernelName: Sum,
  backendName: 'wasm',
  setupFunc: wasmSetupOf(Sum),
  kernelFunc: sum as unknown as KernelFunc,
};
