import {
  getKernel,
  type KernelBackend,
  type KernelConfig,
  type NamedAttrMap,
  type NamedTensorInfoMap,
  type TensorInfo,
} from '@tensorflow/tfjs-core';
import { asBatchedMatrices, transposeMatrices } from './matrix-transpose.js';
import { type SimdKernels, simdKernels } from './simd-kernels.js';
import type { WasmHeap } from './wasm-heap.js';

/**
 * Runs wasm's own registered kernels from inside another kernel and frees every intermediate result
 * except the one returned: kernels see `TensorInfo`s, not tensors, so nothing else would free them.
 */
export class WasmKernelScope {
  private readonly intermediates: TensorInfo[] = [];

  constructor(readonly backend: KernelBackend) {}

  run(kernelName: string, inputs: NamedTensorInfoMap, attrs: NamedAttrMap = {}): TensorInfo {
    const [output] = this.runMulti(kernelName, inputs, attrs);
    return output;
  }

  /** For kernels with several outputs (MaxPoolWithArgmax). */
  runMulti(kernelName: string, inputs: NamedTensorInfoMap, attrs: NamedAttrMap = {}): TensorInfo[] {
    const kernel = getKernel(kernelName, 'wasm');
    if (kernel === undefined) {
      throw new Error(`@deepmask/wasm-training: the wasm backend has no '${kernelName}' kernel to build on`);
    }
    return this.runKernelMulti(kernel, inputs, attrs);
  }

  /** Runs a given kernel (e.g. wasm's own one that a replacement delegates to). */
  runKernel(kernel: KernelConfig, inputs: NamedTensorInfoMap, attrs: NamedAttrMap = {}): TensorInfo {
    return this.runKernelMulti(kernel, inputs, attrs)[0];
  }

  private runKernelMulti(
    kernel: KernelConfig,
    inputs: NamedTensorInfoMap,
    attrs: NamedAttrMap,
  ): TensorInfo[] {
    const result = kernel.kernelFunc({ inputs, attrs, backend: this.backend });
    const outputs = Array.isArray(result) ? result : [result];
    this.intermediates.push(...outputs);
    return outputs;
  }

  /** A new float32 tensor in wasm memory, freed by `finish` unless returned; its contents are undefined. */
  allocate(shape: number[]): TensorInfo {
    const info = (this.backend as unknown as WasmHeap).makeOutput(shape, 'float32');
    this.intermediates.push(info);
    return info;
  }

  /** `allocate` filled with zeros (by our SIMD module where it runs: `fill` is slower on large shared memory). */
  zeros(shape: number[]): TensorInfo {
    const info = this.allocate(shape);
    const values = this.floats(info);
    if (this.simd()?.zero(values) !== true) values.fill(0);
    return info;
  }

  /**
   * The float32 values of `info` in wasm memory, for loops that no wasm kernel offers. Take views after the
   * scope's last allocation: an allocation can grow the memory, which detaches views taken before it.
   */
  floats(info: TensorInfo): Float32Array {
    if (info.dtype !== 'float32') {
      throw new Error(`@deepmask/wasm-training: expected a float32 tensor, got ${info.dtype}`);
    }
    return (this.backend as unknown as WasmHeap).typedArrayFromHeap(info) as Float32Array;
  }

  /** Our SIMD module on the backend's memory, or null where it cannot run. */
  simd(): SimdKernels | null {
    return simdKernels(this.backend);
  }

  reshape(x: TensorInfo, shape: number[]): TensorInfo {
    return this.run('Reshape', { x }, { shape });
  }

  /**
   * Matrix transposes (the only kind the kernels here need, e.g. [A, B] -> [B, A] or [n, A, B] -> [n, B, A])
   * in wasm memory, by SIMD 4x4 blocks where they run (`simdKernels`), else as a JS loop: wasm's
   * Transpose moves 50-60M values/s on large matrices, the loop 200-300M, the blocks 600M-3G. Other
   * permutations go to wasm's kernel.
   */
  transpose(x: TensorInfo, perm: number[]): TensorInfo {
    const matrices = x.dtype === 'float32' ? asBatchedMatrices(x.shape, perm) : null;
    if (matrices === null) return this.run('Transpose', { x }, { perm });
    const out = this.allocate(perm.map((axis) => x.shape[axis]));
    transposeMatrices(this.floats(x), matrices, this.floats(out), this.simd()?.transposeBlocks);
    return out;
  }

  /**
   * Rows `first .. first + count - 1` of `x` seen as a [1, rows, last axis] matrix (for an NHWC tensor: its
   * pixels in order); a reshape of `x` itself when that is all of them.
   */
  matrixRows(x: TensorInfo, first: number, count: number): TensorInfo {
    const width = x.shape[x.shape.length - 1];
    const rows = x.shape.reduce((product, size) => product * size, 1) / width;
    const matrix = this.reshape(x, [1, rows, width]);
    if (first === 0 && count === rows) return matrix;
    return this.run('Slice', { x: matrix }, { begin: [0, first, 0], size: [1, count, width] });
  }

  /** Every `strides`-th element of `x` from `begin` (inclusive) to `end` (exclusive) on each axis. */
  stridedSlice(x: TensorInfo, begin: number[], end: number[], strides: number[]): TensorInfo {
    return this.run(
      'StridedSlice',
      { x },
      { begin, end, strides, beginMask: 0, endMask: 0, ellipsisMask: 0, newAxisMask: 0, shrinkAxisMask: 0 },
    );
  }

  /** Pads (positive amounts) or crops (negative amounts) each axis: `amounts[axis] = [before, after]`. */
  padOrCrop(x: TensorInfo, amounts: Array<[number, number]>): TensorInfo {
    const cropBegin = amounts.map(([before]) => Math.max(-before, 0));
    const cropSize = amounts.map(
      ([before, after], axis) => x.shape[axis] + Math.min(before, 0) + Math.min(after, 0),
    );
    const cropped = amounts.some(([before, after]) => before < 0 || after < 0)
      ? this.run('Slice', { x }, { begin: cropBegin, size: cropSize })
      : x;
    if (amounts.every(([before, after]) => before <= 0 && after <= 0)) return cropped;
    const paddings = amounts.map(([before, after]) => [Math.max(before, 0), Math.max(after, 0)]);
    return this.run('PadV2', { x: cropped }, { paddings, constantValue: 0 });
  }

  /**
   * Inserts `stride - 1` zeros after every row and column of an NHWC tensor:
   * [N, h, w, C] -> [N, h * strideH, w * strideW, C] (trailing zeros included; callers crop them).
   */
  dilate(x: TensorInfo, [strideH, strideW]: [number, number]): TensorInfo {
    if (strideH === 1 && strideW === 1) return x;
    const [n, h, w, c] = x.shape;
    const spread = this.reshape(x, [n * h, 1, w, 1, c]);
    const padded = this.run(
      'PadV2',
      { x: spread },
      {
        paddings: [
          [0, 0],
          [0, strideH - 1],
          [0, 0],
          [0, strideW - 1],
          [0, 0],
        ],
        constantValue: 0,
      },
    );
    return this.reshape(padded, [n, h * strideH, w * strideW, c]);
  }

  /** Frees every intermediate except `result` (one output, or all of a kernel's) and returns it. */
  finish<T extends TensorInfo | TensorInfo[]>(result: T): T {
    const kept = new Set<TensorInfo>([result].flat());
    for (const info of this.intermediates) {
      if (!kept.has(info)) this.backend.disposeData(info.dataId);
    }
    return result;
  }
}
