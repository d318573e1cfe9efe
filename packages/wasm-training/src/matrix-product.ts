import { broadcast_util, type TensorInfo, util } from '@tensorflow/tfjs-core';
import {
  type EpilogueActivation,
  type MatrixView,
  type PackedProduct,
  type ProductEpilogue,
  packedProduct,
  type RightOperand,
} from './packed-product.js';
import { transformedFilter } from './transformed-filters.js';
import { wasmMemoryOf } from './wasm-heap.js';
import type { WasmKernelScope } from './wasm-kernel-scope.js';
import { assertWasmHeadroom } from './wasm-memory-guard.js';
import { adoptedWasmKernel } from './wasm-originals.js';

/**
 * wasm's XNNPACK product packs its right operand into a buffer of its own (one thread, 7-25 ns per value
 * measured, the most for tall operands), where a transpose here moves 3-4 ns per value. It caches that
 * packing by the operand's data, so packing pays only for data used again (weights at inference).
 */
const PACK_COST = 4;

/**
 * Our product of few rows (`PackedProduct.multiplyFewRows`: B unpacked, read once, on both threads) takes a
 * product of at most this many rows, each of at least MIN_ROW_VALUES values, B fresh or kept:
 * `[4, 100352] x [100352, 512]` (a mask head's linear) 10-12 ms on 2 threads (B's 205 MB at the ~20 GB/s
 * that two threads read here), 12-13 on one, where XNNPACK took 105 with a fresh B, and with its packing
 * kept 11-12 on 2 threads, 19 on one (the pool it has beside our helper). Against the row combinations of
 * one thread before it (40 ms there), 16-32 rows were as slow as XNNPACK or slower, rows of 8 values 2.8x
 * slower.
 */
const FEW_ROWS = 8;
const MIN_ROW_VALUES = 16;

/**
 * Our packed product takes every product of a fresh B (a weight after an update, a gradient) that our
 * product of few rows does not: it splits a product of few rows by columns between the threads, each
 * packing its own panels of B (`PackedProduct.multiply`), where XNNPACK packs a fresh B alone (7-25 ns a
 * value). With a fresh B on 2 threads, ours against XNNPACK's: `[m, 512] x [100352, 512]^T` (a mask head's
 * input gradient) 19.5 ms against 26.5 at 4 rows, 41.6 against 52.7 at 16; `[m, 512] x [3136, 512]^T` 0.78
 * against 1.01 at 1 row, 1.67 against 2.02 at 16; `[16, 512] x [512, 512]` 0.24 against 0.94.
 * A B that it keeps packed (a weight at inference, used as given) costs XNNPACK no packing either: ours
 * from FEW_ROWS + 1 rows. Against XNNPACK with its packing kept, alternating on 2 threads: `[m, 256] x
 * [256, 256]` 0.45x at 9 rows, 0.79x at 12, 0.99x at 16, 0.82x at 25; `[25, 512] x [512, 512]` 0.82x,
 * `[16, 64] x [64, 64]` 0.65x, `[25, 1024] x [1024, 256]` 1.08x. ResNet-50's 20x20 Winograd layers in its
 * dense form at 320 px (36 products of 25 tile rows each) 2.6 ms where they took 4.75, the dense forward
 * 0.94-0.97x.
 */
const MIN_KEPT_PACKED_ROWS = FEW_ROWS + 1;

/**
 * The convolution forms (`takesPackedProduct` by default) take our packed product from this many output
 * positions; below, wasm's own convolution (which keeps a known filter's packing) takes them.
 */
const MIN_PACKED_ROWS = 32;

/**
 * A product of a fresh B and at most this many rows takes our product of few rows where B has at most
 * NARROW_COLUMNS columns: a block of B's rows then stays in L2 while each group of A's rows reads it, where
 * our packed product would read B and write it packed first. Few rows against packed, B fresh, on 2
 * threads: `[m, 100352] x [100352, 512]` 28.8 ms against 60.0 at 16 rows, 45.7 against 80.1 at 32, 85.9
 * against 133 at 64; `[m, 512] x [512, 512]` 0.35 against 0.56 at 32, 0.69 against 1.06 at 64; `[m, 1024] x
 * [1024, 256]` 0.59 against 0.89 at 64. A wider B's block outgrows L2: `[m, 512] x [512, 3136]` 3.20
 * against 2.78 at 48, `[16, 512] x [512, 100352]` 54 against 38.
 */
const FEW_ROWS_NARROW = 64;
const NARROW_COLUMNS = 1024;

/**
 * A dense layer's weight gradient x^T dy (A transposed) of a batch of at most this many samples takes our
 * outer products (`PackedProduct.outerProducts`), which write C once, in order: alternating with our packed
 * product on 2 threads, `[b, 100352]^T x [b, 512]` (a mask head's) 7.1 ms against 15.7 at b = 4, 6.1
 * against 16.1 at 2, 12.0 against 17.6 at 6, 22.1 against 22.9 at 8 (they multiply-add 4 inner rows at a
 * time, in order, and run at the FMA units' rate); `[b, 6400]^T x [b, 256]` 0.72 against 1.20 at 8. At 16
 * rows 1.47x and 1.10x the time.
 */
const OUTER_PRODUCT_ROWS = 8;

/**
 * A dense layer's input gradient dy W^T (B transposed) of a batch of at most this many samples takes our row
 * dot products (`PackedProduct.rowDotProducts`), which read W once, in order: on 2 threads, `[b, 512] x
 * [100352, 512]^T` (a mask head's) 7.3 ms against 14.8 at b = 4, 26.1 against 30.7 at 16, 40.6 against
 * 49.1 at 32; `[b, 256] x [6400, 256]^T` 0.51 against 1.03 at 4, 1.41 against 1.72 at 32; `[32, 64] x
 * [512, 64]^T` 0.11 against 0.18.
 */
const ROW_DOT_ROWS = 32;

/**
 * Right operands seen before, untransposed. One used again is taken for a weight at inference: handed to
 * wasm as it is, it is packed once and stays packed while it lives, so its packing counts as free. A
 * weight seen once per training step (a new tensor after every update) is never packed.
 */
const rightOperandsSeen = new WeakSet<object>();

interface Operand {
  info: TensorInfo;
  /** The operand as stored, flattened to a matrix (A's batch folded into rows). */
  rows: number;
  cols: number;
  transposed: boolean;
}

/**
 * How `op(A) op(B)` is computed: on wasm's fast form, A left (`direct`) or `C^T = op(B)^T op(A)^T` then
 * transposed back (`swapped`), or by our products of few rows: `rows` for A and B as stored, `outer` for
 * A^T B of a short A (OUTER_PRODUCT_ROWS), `dots` for A B^T of a short A (ROW_DOT_ROWS).
 */
export type ProductStrategy = 'direct' | 'swapped' | 'rows' | 'outer' | 'dots';

/** `op(A) op(B)` as planned: which operand goes right, what moves first. */
export interface ProductPlan {
  left: Operand;
  right: Operand;
  strategy: ProductStrategy;
  m: number;
  n: number;
  /** Multiply-adds of the product. */
  multiplyAdds: number;
  /** True when B was seen before, untransposed: a weight whose packing XNNPACK (and our product) keep. */
  packedBefore: boolean;
  /** The product's shape: the broadcast batch, then m / (A's batch) rows of n. */
  shape: number[];
}

/**
 * The cheapest way to compute `op(a) op(b)` on wasm's fast form (neither operand transposed, batch 1) or
 * by our product of few rows (where it runs on `backend`), or null where that form does not
 * apply (a batched `b`, a transposed batch of `a`, other dtypes): wasm's kernel then takes it as is.
 * Records an untransposed `b` as seen (`rightOperandsSeen`). Throws tfjs' error where the inner shapes
 * differ.
 */
export function planProduct(
  a: TensorInfo,
  b: TensorInfo,
  transposeA: boolean,
  transposeB: boolean,
  backend: unknown,
): ProductPlan | null {
  const [aRows, aCols] = a.shape.slice(-2);
  const [bRows, bCols] = b.shape.slice(-2);
  const [innerA, innerB] = [transposeA ? aRows : aCols, transposeB ? bCols : bRows];
  // tfjs-core leaves this check to the backends' kernels; ours read k values from both operands' rows.
  if (innerA !== innerB) {
    throw new Error(
      `Error in matMul: inner shapes (${innerA}) and (${innerB}) of Tensors with shapes ${a.shape} and ` +
        `${b.shape} and transposeA=${transposeA} and transposeB=${transposeB} must match.`,
    );
  }
  const batchA = util.sizeFromShape(a.shape.slice(0, -2));
  const batchB = util.sizeFromShape(b.shape.slice(0, -2));
  if (batchB !== 1 || (batchA !== 1 && transposeA) || a.dtype !== 'float32' || b.dtype !== 'float32') {
    return null;
  }
  const left: Operand = { info: a, rows: batchA * aRows, cols: aCols, transposed: transposeA };
  const right: Operand = { info: b, rows: bRows, cols: bCols, transposed: transposeB };
  const m = transposeA ? aCols : left.rows;
  const n = transposeB ? bRows : bCols;
  const aSize = left.rows * left.cols;
  const bSize = right.rows * right.cols;
  const packedBefore = !transposeB && rightOperandsSeen.has(b.dataId);
  if (!transposeB) rightOperandsSeen.add(b.dataId);
  const directCost =
    (transposeA ? aSize : 0) + (transposeB ? bSize : 0) + (packedBefore ? 0 : PACK_COST * bSize);
  const swappedCost = (transposeA ? 0 : aSize) + (transposeB ? 0 : bSize) + PACK_COST * aSize + m * n;
  const ours = takesPackedProduct(backend, m, 0);
  const fewRows =
    ours &&
    !transposeA &&
    !transposeB &&
    (m <= FEW_ROWS || (!packedBefore && m <= FEW_ROWS_NARROW && n <= NARROW_COLUMNS)) &&
    n >= MIN_ROW_VALUES &&
    aCols > 0;
  const outer = ours && transposeA && !transposeB && left.rows > 0 && left.rows <= OUTER_PRODUCT_ROWS;
  const dots = ours && !transposeA && transposeB && aCols > 0 && m <= ROW_DOT_ROWS;
  const strategy: ProductStrategy = fewRows
    ? 'rows'
    : outer
      ? 'outer'
      : dots
        ? 'dots'
        : swappedCost < directCost
          ? 'swapped'
          : 'direct';
  const batch = broadcast_util.assertAndGetBroadcastShape(a.shape.slice(0, -2), b.shape.slice(0, -2));
  const multiplyAdds = m * n * (transposeB ? bCols : bRows);
  return { left, right, strategy, m, n, multiplyAdds, packedBefore, shape: [...batch, m / batchA, n] };
}

/** True when the plan hands wasm the operands exactly as given (no transpose, no batch folded). */
export function isAsGiven(plan: ProductPlan): boolean {
  return (
    plan.strategy === 'direct' &&
    !plan.left.transposed &&
    !plan.right.transposed &&
    plan.left.rows === plan.left.info.shape[plan.left.info.shape.length - 2]
  );
}

/**
 * Runs a plan on our packed product (`packed-product.ts`, where it has a second thread or wasm has none:
 * 1.5-2x XNNPACK's speed), wasm's own BatchMatMul kernel (its XNNPACK form only) or our product of few rows.
 */
export function runProduct(scope: WasmKernelScope, backend: unknown, plan: ProductPlan): TensorInfo {
  const { left, right, m, n } = plan;
  const packed = packedProductFor(backend, plan);
  if (packed !== null) return scope.reshape(runPacked(scope, packed, plan), plan.shape);
  if (plan.strategy === 'outer' || plan.strategy === 'dots') {
    const product = packedProduct(wasmMemoryOf(backend) as WebAssembly.Memory) as PackedProduct;
    const out = scope.allocate([m, n]);
    const [a, b, c] = [left.info, right.info, out].map((info) => scope.floats(info).byteOffset);
    if (plan.strategy === 'outer') product.outerProducts(a, b, c, { inner: left.rows, m, n });
    else product.rowDotProducts(a, b, c, { m, k: left.cols, n });
    return scope.reshape(out, plan.shape);
  }
  if (plan.strategy === 'rows') {
    const product = packedProduct(wasmMemoryOf(backend) as WebAssembly.Memory) as PackedProduct;
    const dims = { m, k: left.cols, n };
    const out = scope.allocate([m, n]);
    const scratch = scope.allocate([Math.max(1, product.fewRowsScratchBytes(dims) / 4)]);
    const [a, b, c, copies] = [left.info, right.info, out, scratch].map(
      (info) => scope.floats(info).byteOffset,
    );
    product.multiplyFewRows(a, b, c, dims, copies);
    return scope.reshape(out, plan.shape);
  }
  const wasm = adoptedWasmKernel('BatchMatMul');
  const multiply = (x: TensorInfo, y: TensorInfo) => {
    // XNNPACK packs y (and a bias of its columns) into a buffer of its own.
    assertWasmHeadroom(backend, 4 * (util.sizeFromShape(y.shape) + y.shape[1]));
    return scope.runKernel(
      wasm,
      { a: scope.reshape(x, [1, ...x.shape]), b: scope.reshape(y, [1, ...y.shape]) },
      { transposeA: false, transposeB: false },
    );
  };
  const product =
    plan.strategy === 'swapped'
      ? scope.transpose(
          scope.reshape(multiply(asMatrix(scope, right, true), asMatrix(scope, left, true)), [n, m]),
          [1, 0],
        )
      : multiply(asMatrix(scope, left, false), asMatrix(scope, right, false));
  return scope.reshape(product, plan.shape);
}

/**
 * Our packed product where runProduct takes this plan (or a batch of such products): a fresh B at any rows,
 * one that XNNPACK keeps packed from MIN_KEPT_PACKED_ROWS; else null.
 */
export function packedProductFor(backend: unknown, plan: ProductPlan): PackedProduct | null {
  if (plan.strategy !== 'direct' && plan.strategy !== 'swapped') return null;
  const keptPacked = plan.strategy === 'direct' && plan.packedBefore;
  if (!takesPackedProduct(backend, plan.m, keptPacked ? MIN_KEPT_PACKED_ROWS : 1)) return null;
  return packedProduct(wasmMemoryOf(backend) as WebAssembly.Memory);
}

/**
 * True when a product of `rows` rows (at least `minRows`; MIN_PACKED_ROWS, the convolution forms', by
 * default) goes to our packed product: where it is worth it (`PackedProduct.worthwhile`).
 */
export function takesPackedProduct(backend: unknown, rows: number, minRows = MIN_PACKED_ROWS): boolean {
  const memory = wasmMemoryOf(backend);
  return rows >= minRows && memory !== null && packedProduct(memory)?.worthwhile === true;
}

/** Keys B's packing among a tensor's kept transforms (`transformedFilter`). */
const PACKED_PANELS = {};

/** op(X) as our packed product reads it, in place. */
function viewOf(scope: WasmKernelScope, x: Operand): MatrixView {
  const { rowStride, colStride } = x.transposed
    ? { rowStride: 1, colStride: x.cols }
    : { rowStride: x.cols, colStride: 1 };
  return { byteOffset: scope.floats(x.info).byteOffset, rowStride, colStride };
}

/**
 * B as our packed product reads it: a B seen before (a weight at inference, as XNNPACK keeps its own
 * packing) packed once and kept while it lives, any other as viewed (packed at every call).
 */
function rightOperand(scope: WasmKernelScope, product: PackedProduct, plan: ProductPlan): RightOperand {
  const { right, n } = plan;
  if (!plan.packedBefore) return viewOf(scope, right);
  const k = right.transposed ? right.cols : right.rows;
  return { packedAt: keptPacking(scope, product, right.info, viewOf(scope, right), { k, n }) };
}

/**
 * The address of `b` (k x n as `view` reads it) packed for our product, packed on the first call and kept
 * while `b` lives (a weight at inference, as XNNPACK keeps its own packing): one packing for every form that
 * multiplies by the same weight.
 */
export function keptPacking(
  scope: WasmKernelScope,
  product: PackedProduct,
  b: TensorInfo,
  view: MatrixView,
  dims: { k: number; n: number },
): number {
  const [kept] = transformedFilter(scope.backend, b, PACKED_PANELS, (allocate) => {
    const packed = allocate([product.packedSize(dims.k, dims.n)]);
    product.pack(view, scope.floats(packed).byteOffset, dims);
    return [packed];
  });
  return scope.floats(kept).byteOffset;
}

/** The product's operands for `plans` (one shape) and its scratch; addresses taken after the last allocation. */
function productInputs(scope: WasmKernelScope, product: PackedProduct, plans: ProductPlan[]) {
  const { left, n } = plans[0];
  const k = left.transposed ? left.rows : left.cols;
  const scratch = scope.allocate([product.scratchBytes({ m: plans[0].m, k, n }, plans.length) / 4]);
  const rights = plans.map((plan) => rightOperand(scope, product, plan));
  return {
    lefts: plans.map((plan) => viewOf(scope, plan.left)),
    rights,
    dims: { m: plans[0].m, k, n },
    scratch: scope.floats(scratch).byteOffset,
  };
}

/**
 * `op(A_i) op(B_i)` for pairs of one shape (a Winograd convolution's n^2 products), as our BatchMatMul
 * computes each, but where our packed product takes them as one batch (`multiplyEach`: one wake-up of its
 * helper, each thread claiming whole products and packing their B's).
 */
export function runProducts(
  scope: WasmKernelScope,
  pairs: Array<{ a: TensorInfo; b: TensorInfo }>,
  transposeA: boolean,
  transposeB = false,
): TensorInfo[] {
  const { backend } = scope;
  const plans = pairs.map(({ a, b }) => planProduct(a, b, transposeA, transposeB, backend));
  const [first] = plans;
  const sameDims = plans.every(
    (plan) =>
      plan !== null && plan.m === first?.m && plan.n === first.n && plan.multiplyAdds === first.multiplyAdds,
  );
  const product = sameDims && first !== null ? packedProductFor(backend, first) : null;
  if (product === null) {
    return plans.map((plan, i) =>
      plan === null
        ? scope.runKernel(adoptedWasmKernel('BatchMatMul'), pairs[i], { transposeA, transposeB })
        : runProduct(scope, backend, plan),
    );
  }
  const outs = plans.map((plan) => scope.allocate((plan as ProductPlan).shape));
  const { lefts, rights, dims, scratch } = productInputs(scope, product, plans as ProductPlan[]);
  product.multiplyEach(
    outs.map((out, i) => ({ a: lefts[i], b: rights[i], c: scope.floats(out).byteOffset })),
    dims,
    scratch,
  );
  return outs;
}

/** `op(A) op(B)` (then the epilogue if any) by our packed product, transposed operands read in place. */
function runPacked(
  scope: WasmKernelScope,
  product: PackedProduct,
  plan: ProductPlan,
  epilogue?: ProductEpilogue,
): TensorInfo {
  const out = scope.allocate([plan.m, plan.n]);
  const { lefts, rights, dims, scratch } = productInputs(scope, product, [plan]);
  product.multiply(lefts[0], rights[0], scope.floats(out).byteOffset, dims, scratch, epilogue);
  return out;
}

/**
 * A fused kernel's per-channel bias and activation for our packed product to apply as it stores the
 * result; `applied` once it did (where it takes the product as planned, untransposed: `runProductWithBias`).
 */
export interface PendingEpilogue {
  bias: TensorInfo;
  activation: EpilogueActivation;
  applied: boolean;
}

/**
 * The plan's product with the epilogue's bias and activation applied as our packed product stores C (the
 * values of the product, an Add and a Relu or Relu6), where that product takes the plan with C as computed ('direct'); else
 * the product alone, the epilogue left for the caller (`applied` false).
 */
export function runProductWithBias(
  scope: WasmKernelScope,
  plan: ProductPlan,
  epilogue: PendingEpilogue | undefined,
): TensorInfo {
  const product = plan.strategy === 'direct' ? packedProductFor(scope.backend, plan) : null;
  if (epilogue === undefined || product === null) return runProduct(scope, scope.backend, plan);
  const bias = scope.floats(epilogue.bias).byteOffset;
  const out = runPacked(scope, product, plan, { bias, activation: epilogue.activation });
  epilogue.applied = true;
  return scope.reshape(out, plan.shape);
}

/**
 * `a b` (untransposed) as our BatchMatMul computes it, within the caller's kernel, with the epilogue applied
 * where our packed product takes it (`runProductWithBias`).
 */
export function multiplyWithBias(
  scope: WasmKernelScope,
  a: TensorInfo,
  b: TensorInfo,
  epilogue: PendingEpilogue | undefined,
): TensorInfo {
  const plan = planProduct(a, b, false, false, scope.backend);
  if (plan === null) return scope.run('BatchMatMul', { a, b }, { transposeA: false, transposeB: false });
  return runProductWithBias(scope, plan, epilogue);
}

/** The operand as a row-major matrix equal to op(X), or to op(X)^T when `flipped`. */
function asMatrix(scope: WasmKernelScope, x: Operand, flipped: boolean): TensorInfo {
  const matrix = scope.reshape(x.info, [x.rows, x.cols]);
  return x.transposed !== flipped ? scope.transpose(matrix, [1, 0]) : matrix;
}
