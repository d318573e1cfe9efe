import {
  BatchMatMul,
  type BatchMatMulAttrs,
  broadcast_util,
  type KernelConfig,
  type KernelFunc,
  type TensorInfo,
  util,
} from '@tensorflow/tfjs-core';
import { WasmKernelScope } from './wasm-kernel-scope.js';
import { assertWasmHeadroom } from './wasm-memory-guard.js';
import { adoptedWasmKernel, wasmSetupOf } from './wasm-originals.js';

interface Operand {
  info: TensorInfo;
  /** The operand as stored, flattened to a matrix (A's batch folded into rows). */
  rows: number;
  cols: number;
  transposed: boolean;
}

/**
 * tfjs-backend-wasm 4.22 runs BatchMatMul on XNNPACK (SIMD, threaded) only when neither operand is
 * transposed and both have batch 1; anything else falls to a scalar single-threaded loop, and every
 * matmul gradient transposes an operand. This kernel hands wasm's kernel only that fast form: it
 * transposes whichever side moves fewer elements (or computes C^T = op(B)^T op(A)^T and transposes the
 * small result), and folds a batch of A into rows when B is shared. Other batched cases go to wasm as is.
 */
function batchMatMul(args: {
  inputs: { a: TensorInfo; b: TensorInfo };
  backend: unknown;
  attrs: BatchMatMulAttrs;
}): TensorInfo {
  const wasm = adoptedWasmKernel(BatchMatMul);
  const { a, b } = args.inputs;
  const { transposeA, transposeB } = args.attrs;
  const batchA = util.sizeFromShape(a.shape.slice(0, -2));
  const batchB = util.sizeFromShape(b.shape.slice(0, -2));
  if (batchB !== 1 || (batchA !== 1 && transposeA) || a.dtype !== 'float32' || b.dtype !== 'float32') {
    return wasm.kernelFunc(args as never) as TensorInfo;
  }
  const [aRows, aCols] = a.shape.slice(-2);
  const [bRows, bCols] = b.shape.slice(-2);
  const left: Operand = { info: a, rows: batchA * aRows, cols: aCols, transposed: transposeA };
  const right: Operand = { info: b, rows: bRows, cols: bCols, transposed: transposeB };
  const m = transposeA ? aCols : left.rows;
  const n = transposeB ? bRows : bCols;
  const aSize = left.rows * left.cols;
  const bSize = right.rows * right.cols;
  const directCost = (transposeA ? aSize : 0) + (transposeB ? bSize : 0);
  const swappedCost = (transposeA ? 0 : aSize) + (transposeB ? 0 : bSize) + m * n;

  const scope = new WasmKernelScope(args.backend as never);
  const multiply = (x: TensorInfo, y: TensorInfo) => {
    // XNNPACK packs y (and a bias of its columns) into a buffer of its own.
    assertWasmHeadroom(args.backend, 4 * (util.sizeFromShape(y.shape) + y.shape[1]));
    return scope.runKernel(
      wasm,
      { a: scope.reshape(x, [1, ...x.shape]), b: scope.reshape(y, [1, ...y.shape]) },
      { transposeA: false, transposeB: false },
    );
  };
  const product =
    directCost <= swappedCost
      ? multiply(asMatrix(scope, left, false), asMatrix(scope, right, false))
      : scope.transpose(
          scope.reshape(multiply(asMatrix(scope, right, true), asMatrix(scope, left, true)), [n, m]),
          [1, 0],
        );
  const outer = broadcast_util.assertAndGetBroadcastShape(a.shape.slice(0, -2), b.shape.slice(0, -2));
  return scope.finish(scope.reshape(product, [...outer, m / batchA, n]));
}

/** The operand as a row-major matrix equal to op(X), or to op(X)^T when `flipped`. */
function asMatrix(scope: WasmKernelScope, x: Operand, flipped: boolean): TensorInfo {
  const matrix = scope.reshape(x.info, [x.rows, x.cols]);
  return x.transposed !== flipped ? scope.transpose(matrix, [1, 0]) : matrix;
}

export const batchMatMulConfig: KernelConfig = {
  kernelName: BatchMatMul,
  backendName: 'wasm',
  setupFunc: wasmSetupOf(BatchMatMul),
  kernelFunc: batchMatMul as unknown as KernelFunc,
};
