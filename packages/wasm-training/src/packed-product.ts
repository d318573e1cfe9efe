import {
  BIAS_EPILOGUE,
  MATRIX_PRODUCT_WASM,
  PANEL_COLUMNS,
  PRODUCT_WORK_BYTES,
  RELU_EPILOGUE,
  RELU6_EPILOGUE,
} from './matrix-product-wasm.js';
import { SHARED_SIMD_EXPORTS } from './shared-simd-exports.js';
import { SIMD_KERNELS_WASM, SIMD_KERNELS_WASM_SHARED } from './simd-kernels-wasm.js';

/** A matrix in wasm memory: element (i, j) at `byteOffset + 4 (i rowStride + j colStride)`. */
export interface MatrixView {
  byteOffset: number;
  rowStride: number;
  colStride: number;
}

/** An epilogue's activation: none, tfjs' ReLU (`x < 0 ? 0 : x`) or its ReLU6 (`min(max(x, 0), 6)`). */
export type EpilogueActivation = 'linear' | 'relu' | 'relu6';

/**
 * What `multiply` does to C's finished sums as it stores them: adds the n values at `bias` (a layer's bias, one
 * per column), then the `activation`: the values of an Add and a Relu or Relu6 after it.
 */
export interface ProductEpilogue {
  bias: number;
  activation: EpilogueActivation;
}

/** The product module's code for an epilogue with this activation (productRows, convolutionRows). */
export function epilogueCode(activation: EpilogueActivation): number {
  return { linear: BIAS_EPILOGUE, relu: RELU_EPILOGUE, relu6: RELU6_EPILOGUE }[activation];
}

/** A right operand as viewed, or already packed (by `pack`) at `packedAt`. */
export type RightOperand = MatrixView | { packedAt: number };

/**
 * The exports that tasks call, by the number that the helper thread knows them by: the product module's,
 * then the SIMD module's that run in parts (SHARED_SIMD_EXPORTS).
 */
export const PRODUCT_EXPORTS: readonly string[] = [
  'packPanels',
  'productRows',
  'filterGradientTaps',
  'inputGradientTaps',
  'convolutionRows',
  'fewRowsProduct',
  'depthwiseRows',
  'depthwiseInputGradientRows',
  'outerProductRows',
  'rowDotProducts',
  ...SHARED_SIMD_EXPORTS,
];

/**
 * A call of the product module's exports. The arguments at `perThread` are addresses in the scratch region
 * of the thread that runs it: thread t adds t times the job's thread stride to them.
 */
export interface ProductCall {
  name: string;
  args: number[];
  perThread: number[];
}

/** Calls that one thread runs in order: a block of a product's rows, or one product of a batch. */
export type ProductTask = ProductCall[];

/**
 * A second thread that shares jobs of tasks with the caller: each thread claims the next unclaimed task
 * until none is left, so a thread that starts late (a wake-up takes 10-100 us) or runs slow (this VM's two
 * cores drift apart by up to 2x) takes fewer of them.
 */
export interface ProductHelper {
  /**
   * Runs a job of at most MAX_SHARED_TASKS tasks: the caller's claims by `runHere`, the helper's with its
   * per-thread addresses moved by `threadStride`. Returns once every claimed task has run; throws when a
   * task failed on either thread.
   */
  share(tasks: ProductTask[], threadStride: number, runHere: (task: ProductTask) => void): void;
}

/** The most tasks a job has: a product's rows in up to 32 blocks, a Winograd layer's 16 or 36 products. */
export const MAX_SHARED_TASKS = 64;

/** Our matrix product (`scripts/matrix-product-wat.ts`) on one wasm memory. */
export interface PackedProduct {
  /** True when its multiply-adds are relaxed SIMD's fused ones. */
  fused: boolean;
  /**
   * True where it beats XNNPACK on its memory: on the single-threaded build (1.5-2x XNNPACK's one thread)
   * and with a helper thread, which joins products from MIN_THREADED_MULTIPLY_ADDS. Below that it runs on
   * one thread, and still wins: XNNPACK creates an operator, packs a fresh B and wakes its pool at every
   * call, 90-200 us for the tiny trunk's products of 2K-1M multiply-adds (its step 0.89-0.92x the time with
   * them on ours, in in-process A/Bs). False on a shared memory without a helper.
   */
  worthwhile: boolean;
  /** Floats of packed B for a k x n right operand. */
  packedSize(k: number, n: number): number;
  /** Bytes of scratch (packed B's and work areas) that `multiply` (count 1) or `multiplyEach` needs. */
  scratchBytes(dims: { m: number; k: number; n: number }, count: number): number;
  /** Packs B (k x n as viewed) at `packed` (packedSize floats), for products that keep it. */
  pack(b: MatrixView, packed: number, dims: { k: number; n: number }): void;
  /**
   * C (m x n, row-major at `c`) = A B with A m x k and B k x n as viewed (or packed), with `scratch`
   * (scratchBytes) in the same memory, then the `epilogue` if any; blocks of rows shared with the helper
   * thread.
   */
  multiply(
    a: MatrixView,
    b: RightOperand,
    c: number,
    dims: { m: number; k: number; n: number },
    scratch: number,
    epilogue?: ProductEpilogue,
  ): void;
  /**
   * Several products of the same dims (C_i = A_i B_i, each as `multiply`), each thread taking whole
   * products, packing their B's in its own part of `scratch`: one wake-up for all.
   */
  multiplyEach(
    products: Array<{ a: MatrixView; b: RightOperand; c: number }>,
    dims: { m: number; k: number; n: number },
    scratch: number,
  ): void;
  /**
   * A convolution's filter gradient `out` (`size` floats) tap by tap from the `count` tap records at
   * `records` (scripts/tap-filter-gradient-wat.ts: offsets from x and dy): the records in `copies` shares
   * that the threads claim, each summed into its own copy of dW at `scratch` (zero), then the copies added
   * in order, so that dW does not depend on which thread ran what.
   */
  filterGradient(
    taps: { records: number; count: number; x: number; dy: number },
    dims: { channels: number; outChannels: number; size: number; copies: number },
    scratch: number,
    out: number,
  ): void;
  /**
   * A strided convolution's dx (zero at `dx`, channels a multiple of 8) tap by tap from the `count` tap
   * records at `records` (scripts/tap-input-gradient-wat.ts: a tap's dy positions times its filter packed
   * at `packed`, added onto their dx pixels): the images in shares that the threads claim, so that each
   * writes its own images' pixels.
   */
  inputGradient(
    taps: { records: number; count: number; dy: number; dx: number; packed: number },
    dims: { images: number; channels: number; outChannels: number },
  ): void;
  /**
   * Runs the calls (of PRODUCT_EXPORTS: parts of a SIMD function's work, each writing its own outputs) as tasks
   * that both threads claim, or all here without a helper.
   */
  run(calls: ProductCall[]): void;
  /**
   * Runs the calls as `run` does, call t summing into copy t of a result of `size` floats (the copies one
   * after another at `copies`, zero), then adds the copies in order into `out`: the result does not depend
   * on which thread ran what.
   */
  runSummed(calls: ProductCall[], copies: number, size: number, out: number): void;
  /**
   * y = conv(x, W) straight from x (scripts/direct-convolution-wat.ts), W packed at `packed` as a
   * [fh fw C, O] right operand, the convolution's `geometry` record at `geometry`: its `rows` output rows
   * (N outHeight) in shares that the threads claim.
   */
  convolve(conv: { geometry: number; x: number; packed: number; y: number }, rows: number): void;
  /**
   * C (m x n, row-major at `c`) = A^T B for A (inner x m) and B (inner x n) row-major as stored, inner
   * small (a dense layer's weight gradient x^T dy at a small batch): each row of C summed from B's rows in
   * the order of the inner rows, C written once, in order (scripts/thin-product-wat.ts); C's rows in shares
   * that the threads claim.
   */
  outerProducts(a: number, b: number, c: number, dims: { inner: number; m: number; n: number }): void;
  /**
   * C (m x n, row-major at `c`) = A B^T for A (m x k) and B (n x k) row-major as stored, m small (a dense
   * layer's input gradient dy W^T at a small batch): each value a dot product of two rows, B read once, in
   * order (scripts/thin-product-wat.ts); B's rows in shares that the threads claim.
   */
  rowDotProducts(a: number, b: number, c: number, dims: { m: number; k: number; n: number }): void;
  /** Bytes of scratch that `multiplyFewRows` needs for these dims (0: none). */
  fewRowsScratchBytes(dims: { m: number; k: number; n: number }): number;
  /**
   * C (m x n, row-major at `c`) = A B for A (m x k) and B (k x n) row-major as stored at `a` and `b`, k at
   * least 1, without packing B (scripts/few-rows-product-wat.ts): for few rows, which use each of B's
   * values a few times only. B's rows in shares that the threads claim, each share's product in its own
   * copy of C in `scratch` (fewRowsScratchBytes), the copies then added in order (C does not depend on
   * which thread ran what).
   */
  multiplyFewRows(
    a: number,
    b: number,
    c: number,
    dims: { m: number; k: number; n: number },
    scratch: number,
  ): void;
}

/** Products below which a second thread costs more than it saves (its wake-up is 10-50 us). */
const MIN_THREADED_MULTIPLY_ADDS = 1 << 21;

type Exported = (...args: number[]) => void;

const byMemory = new WeakMap<WebAssembly.Memory, PackedProduct | null>();
const helpers = new WeakMap<WebAssembly.Memory, ProductHelper>();

const simdModules = new Map<boolean, WebAssembly.Module | null>();

/**
 * src/simd-kernels.wat compiled (once) for a memory of this kind, shared or not, or null where it does not
 * validate (no SIMD): `simdKernels` instantiates it, and our product and its helper thread for the functions
 * that they run in parts.
 */
export function simdModule(shared: boolean): WebAssembly.Module | null {
  if (!simdModules.has(shared)) {
    const bytes = Uint8Array.from(atob(shared ? SIMD_KERNELS_WASM_SHARED : SIMD_KERNELS_WASM), (c) =>
      c.charCodeAt(0),
    );
    simdModules.set(shared, WebAssembly.validate(bytes) ? new WebAssembly.Module(bytes) : null);
  }
  return simdModules.get(shared) ?? null;
}

/** The compiled product module for a memory of this kind, fused where relaxed SIMD validates. */
export function productModule(shared: boolean): { module: WebAssembly.Module; fused: boolean } | null {
  const variants = shared ? MATRIX_PRODUCT_WASM.shared : MATRIX_PRODUCT_WASM.plain;
  for (const fused of [true, false]) {
    const bytes = Uint8Array.from(atob(fused ? variants.fused : variants.separate), (c) => c.charCodeAt(0));
    if (WebAssembly.validate(bytes)) return { module: new WebAssembly.Module(bytes), fused };
  }
  return null;
}

/** Lets products on `memory` share their tasks with `helper` (a thread running productModule's module). */
export function setProductHelper(memory: WebAssembly.Memory, helper: ProductHelper): void {
  helpers.set(memory, helper);
  byMemory.delete(memory);
}

/** The helper that products on `memory` share tasks with, if any. */
export function productHelperOf(memory: WebAssembly.Memory): ProductHelper | undefined {
  return helpers.get(memory);
}

/** Our matrix product on `memory`, or null where its module cannot run (no SIMD). */
export function packedProduct(memory: WebAssembly.Memory): PackedProduct | null {
  if (!byMemory.has(memory)) byMemory.set(memory, instantiate(memory));
  return byMemory.get(memory) ?? null;
}

function instantiate(memory: WebAssembly.Memory): PackedProduct | null {
  const shared = typeof SharedArrayBuffer !== 'undefined' && memory.buffer instanceof SharedArrayBuffer;
  const compiled = productModule(shared);
  const simd = simdModule(shared);
  if (compiled === null || simd === null) return null;
  const exports = {
    ...new WebAssembly.Instance(simd, { env: { memory } }).exports,
    ...new WebAssembly.Instance(compiled.module, { env: { memory } }).exports,
  } as Record<string, Exported>;
  const helper = helpers.get(memory);
  return {
    fused: compiled.fused,
    worthwhile: helper !== undefined || !shared,
    packedSize,
    scratchBytes: (dims, count) => {
      const threads = threaded(dims);
      const shares = count === 1 && threads ? innerShares(dims) : 1;
      const inner = shares > 1 ? copiesBytes(dims, shares) + 2 * innerRegion(dims, shares) : 0;
      const columns = count === 1 ? columnBlock(dims, threads) : null;
      const other =
        columns !== null
          ? 2 * (PRODUCT_WORK_BYTES + 4 * packedSize(dims.k, columns))
          : 2 * PRODUCT_WORK_BYTES + (count > 1 ? 2 : 1) * 4 * packedSize(dims.k, dims.n);
      return Math.max(inner, other);
    },
    pack: (b, packed, dims) => runTask([packCall(b, packed, dims, [])]),
    multiply: (a, b, c, dims, scratch, epilogue) => {
      const threads = threaded(dims);
      const shares = threads && epilogue === undefined ? innerShares(dims) : 1;
      if (shares > 1 && !('packedAt' in b)) {
        // The shares' copies of C, then a region per thread: its work area, then its share's panels of B.
        const tasks = innerTasks(a, b, dims, shares, scratch, scratch + copiesBytes(dims, shares));
        share(tasks, innerRegion(dims, shares), true);
        exports.sumCopies(scratch, shares, dims.m * dims.n, c);
        return;
      }
      const columns = columnBlock(dims, threads);
      if (columns !== null) {
        // A region per thread: its work area, then its block's panels of B.
        const region = PRODUCT_WORK_BYTES + 4 * packedSize(dims.k, columns);
        share(columnTasks(a, b, c, dims, columns, scratch, epilogue), region, true);
        return;
      }
      // Work areas one per thread, then B's panels.
      const at = 'packedAt' in b ? b.packedAt : scratch + 2 * PRODUCT_WORK_BYTES;
      if (!('packedAt' in b)) {
        const panels = Math.ceil(dims.n / PANEL_COLUMNS);
        if (threads && panels >= 2 && dims.k * dims.n >= MIN_SHARED_PACK_VALUES) {
          share(packTasks(b, at, dims, Math.min(panels, PACK_SHARES)), 0, true);
        } else {
          runTask([packCall(b, at, dims, [])]);
        }
      }
      const tasks = rowBlocks(dims.m, threads).map(([start, end]) => [
        rowsCall(a, at, c, dims, start, end, scratch, [], epilogue),
      ]);
      share(tasks, PRODUCT_WORK_BYTES, threads);
    },
    multiplyEach: (products, dims, scratch) => {
      // A region per thread: its work area, then its B's panels.
      const region = PRODUCT_WORK_BYTES + 4 * packedSize(dims.k, dims.n);
      const packed = scratch + PRODUCT_WORK_BYTES;
      const tasks = products.map(({ a, b, c }) =>
        'packedAt' in b
          ? [rowsCall(a, b.packedAt, c, dims, 0, dims.m, scratch)]
          : [packCall(b, packed, dims, [3]), rowsCall(a, packed, c, dims, 0, dims.m, scratch, [3])],
      );
      share(tasks, region, helper !== undefined);
    },
    filterGradient: ({ records, count, x, dy }, { channels, outChannels, size, copies }, scratch, out) => {
      const calls = evenShares(count, copies).map(([first, end], t): ProductCall => {
        const args = [records, first, end, x, dy, scratch + 4 * t * size, channels, outChannels];
        return { name: 'filterGradientTaps', args, perThread: [] };
      });
      runSummed(calls, scratch, size, out);
    },
    inputGradient: ({ records, count, dy, dx, packed }, { images, channels, outChannels }) => {
      const tasks = evenShares(images, Math.min(images, SHARES)).map(([start, end]): ProductTask => {
        const args = [records, count, dy, dx, packed, start, end, channels, outChannels];
        return [{ name: 'inputGradientTaps', args, perThread: [] }];
      });
      share(tasks, 0, helper !== undefined);
    },
    run: (calls) =>
      share(
        calls.map((call) => [call]),
        0,
        helper !== undefined,
      ),
    runSummed,
    convolve: ({ geometry, x, packed, y }, rows) => {
      const tasks = evenShares(rows, Math.min(rows, SHARES)).map(
        ([start, end]): ProductTask => [
          { name: 'convolutionRows', args: [geometry, x, packed, y, start, end], perThread: [] },
        ],
      );
      share(tasks, 0, helper !== undefined);
    },
    outerProducts: (a, b, c, { inner, m, n }) => {
      const shares = threaded({ m, k: inner, n }) ? Math.min(m, SHARES) : 1;
      const tasks = evenShares(m, shares).map(([start, end]): ProductTask => {
        const args = [a, 4 * m, b, c, inner, n, start, end];
        return [{ name: 'outerProductRows', args, perThread: [] }];
      });
      share(tasks, 0, shares > 1);
    },
    rowDotProducts: (a, b, c, { m, k, n }) => {
      const shares = threaded({ m, k, n }) ? Math.min(n, SHARES) : 1;
      const tasks = evenShares(n, shares).map(([start, end]): ProductTask => {
        const args = [a, b, c, m, k, n, start, end];
        return [{ name: 'rowDotProducts', args, perThread: [] }];
      });
      share(tasks, 0, shares > 1);
    },
    fewRowsScratchBytes: (dims) => {
      const shares = fewRowsShares(dims, helper !== undefined);
      return shares > 1 ? 4 * shares * dims.m * dims.n : 0;
    },
    multiplyFewRows: (a, b, c, { m, k, n }, scratch) => {
      const shares = fewRowsShares({ m, k, n }, helper !== undefined);
      if (shares === 1) {
        exports.fewRowsProduct(a, k, b, c, m, k, n);
        return;
      }
      const tasks = evenShares(k, shares).map(([start, end], t): ProductTask => {
        const args = [a + 4 * start, k, b + 4 * start * n, scratch + 4 * t * m * n, m, end - start, n];
        return [{ name: 'fewRowsProduct', args, perThread: [] }];
      });
      share(tasks, 0, true);
      exports.sumCopies(scratch, shares, m * n, c);
    },
  };

  function runSummed(calls: ProductCall[], copies: number, size: number, out: number): void {
    share(
      calls.map((call) => [call]),
      0,
      helper !== undefined,
    );
    exports.sumCopies(copies, calls.length, size, out);
  }

  /** True where a product of these dims is shared with the helper thread. */
  function threaded({ m, k, n }: { m: number; k: number; n: number }): boolean {
    return helper !== undefined && m * k * n >= MIN_THREADED_MULTIPLY_ADDS;
  }

  /** Runs a task's calls on this thread (thread 0: its per-thread addresses as they are). */
  function runTask(task: ProductTask): void {
    for (const { name, args } of task) exports[name](...args);
  }

  /** Runs the tasks on this thread, or shared with the helper thread (which runs as thread 1). */
  function share(tasks: ProductTask[], threadStride: number, threads: boolean): void {
    if (!threads || helper === undefined || tasks.length < 2) {
      for (const task of tasks) runTask(task);
      return;
    }
    for (let first = 0; first < tasks.length; first += MAX_SHARED_TASKS) {
      helper.share(tasks.slice(first, first + MAX_SHARED_TASKS), threadStride, runTask);
    }
  }
}

/** The fewest of B's rows in a share of a product of few rows: a block of them read whole, in order. */
const MIN_FEW_ROWS_SHARE = 256;

/**
 * B's rows in this many shares (one, without a second thread or below MIN_THREADED_MULTIPLY_ADDS): split
 * by rows, as columns split would have each thread read parts of every row, which ran 1.2-1.3x slower on
 * two threads than one thread reading whole rows ([4, 100352] x [100352, 512]).
 */
function fewRowsShares({ m, k, n }: { m: number; k: number; n: number }, helper: boolean): number {
  if (!helper || m * k * n < MIN_THREADED_MULTIPLY_ADDS) return 1;
  return Math.max(1, Math.min(SHARES, Math.floor(k / MIN_FEW_ROWS_SHARE)));
}

/**
 * Shares of a batch's images (tap-by-tap input gradients), output rows (direct convolutions) or a thin
 * product's rows that the threads claim.
 */
const SHARES = 16;

/** [0, total) as `shares` consecutive [start, end) ranges of sizes within one of each other. */
export function evenShares(total: number, shares: number): Array<[number, number]> {
  return Array.from({ length: shares }, (_, t) => [
    Math.floor((t * total) / shares),
    Math.floor(((t + 1) * total) / shares),
  ]);
}

function packedSize(k: number, n: number): number {
  return Math.ceil(n / PANEL_COLUMNS) * PANEL_COLUMNS * k;
}

/**
 * A threaded product of fewer row blocks than this (fewer than 4 MIN_BLOCK_ROWS rows) is split by columns:
 * blocks of rows would leave a thread idle or unevenly loaded, and B packed whole by one thread. Against
 * that, on 2 threads: `[32, 512] x [100352, 512]^T` (a fresh B) 48 ms where it took 104, `[32, 100352] x
 * [100352, 512]` (B kept packed) 54 where 83.
 */
const MIN_ROW_BLOCKS = 4;

/**
 * The fewest panels in a block of columns: each task packs A's rows afresh, which blocks of one panel did
 * 8-32 times over for tall A's. Against one panel and against blocks of rows, with a fresh B on 2 threads:
 * `[64, 6400] x [6400, 64]` (a 1x1 convolution's filter gradient) 0.67 ms against 1.02 and 0.67,
 * `[32, 6400] x [6400, 256]` 1.70 against 2.31 and 3.02 (32 rows: one block, one thread).
 */
const MIN_BLOCK_PANELS = 4;

/**
 * Columns of C per task where `multiply` splits the product by columns (whole panels, at least
 * MIN_BLOCK_PANELS, at most MAX_ROW_TASKS blocks, at least two), else null.
 */
function columnBlock({ m, n }: { m: number; n: number }, threads: boolean): number | null {
  const panels = Math.ceil(n / PANEL_COLUMNS);
  if (!threads || rowBlocks(m, true).length >= MIN_ROW_BLOCKS || panels <= MIN_BLOCK_PANELS) return null;
  return PANEL_COLUMNS * Math.max(MIN_BLOCK_PANELS, Math.ceil(panels / MAX_ROW_TASKS));
}

/**
 * Tasks of `multiply` split by columns: blocks of `size` columns of C, each task packing its block's panels
 * of B into its thread's region of `scratch` (after the work area; unless B is packed) and multiplying all of
 * A's rows by them.
 */
function columnTasks(
  a: MatrixView,
  b: RightOperand,
  c: number,
  { m, k, n }: { m: number; k: number; n: number },
  size: number,
  scratch: number,
  epilogue?: ProductEpilogue,
): ProductTask[] {
  const panels = scratch + PRODUCT_WORK_BYTES;
  const tasks: ProductTask[] = [];
  for (let start = 0; start < n; start += size) {
    const columns = { k, n: Math.min(size, n - start), rowFloats: n };
    const finish = epilogue === undefined ? undefined : { ...epilogue, bias: epilogue.bias + 4 * start };
    const c0 = c + 4 * start;
    if ('packedAt' in b) {
      tasks.push([rowsCall(a, b.packedAt + 4 * start * k, c0, columns, 0, m, scratch, [], finish)]);
      continue;
    }
    const block = { ...b, byteOffset: b.byteOffset + 4 * start * b.colStride };
    tasks.push([
      packCall(block, panels, columns, [3]),
      rowsCall(a, panels, c0, columns, 0, m, scratch, [3], finish),
    ]);
  }
  return tasks;
}

/**
 * Steps of k per share, at least, where `multiply` splits a product by k. A fresh B of a product with at most
 * half as many rows per share as steps of k (a convolution's filter gradient x^T dy: channels by positions)
 * is split by k in 2 or 4 shares: each share packs its part of A and of B once, on the thread that claims
 * it, into its own copy of C, and the copies are added in order (C does not depend on which thread ran
 * what). Split by columns, each task packed all of A's rows afresh; by rows, one thread packed all of B
 * first. Alternating on 2 threads, x^T dy of ResNet-50's 1x1 layers: `[6400, 64]^T x [6400, 256]` 0.81-0.90x
 * the time, `[6400, 256]^T x [6400, 64]` 0.84-0.91x, `[1600, 128]^T x [1600, 512]` 0.92-0.95x, `[6400,
 * 64]^T x [6400, 64]` 0.87-0.92x; with more rows, `[1600, 512]^T x [1600, 128]`, 0.99-1.08x (not split).
 */
const INNER_SHARE_BLOCK = 512;

/** Shares of k for `multiply` (1: not split by k), for a fresh B and no epilogue on both threads. */
function innerShares({ m, k }: { m: number; k: number }): number {
  if (m < MIN_BLOCK_ROWS) return 1;
  const fits = (shares: number) => k >= shares * Math.max(INNER_SHARE_BLOCK, 2 * m);
  return fits(4) ? 4 : fits(2) ? 2 : 1;
}

/** Bytes of the shares' copies of C, rounded up to whole vectors (the regions after them stay aligned). */
function copiesBytes({ m, n }: { m: number; n: number }, shares: number): number {
  return 16 * Math.ceil((shares * m * n) / 4);
}

/** Bytes of a thread's region for a share of k: its work area, then the share's panels of B. */
function innerRegion({ k, n }: { k: number; n: number }, shares: number): number {
  return PRODUCT_WORK_BYTES + 4 * packedSize(Math.ceil(k / shares), n);
}

/**
 * Tasks of `multiply` split by k: share t packs its steps of B into its thread's region (from `regions`,
 * after the work area) and writes A's columns times them into copy t of C at `copies`.
 */
function innerTasks(
  a: MatrixView,
  b: MatrixView,
  { m, k, n }: { m: number; k: number; n: number },
  shares: number,
  copies: number,
  regions: number,
): ProductTask[] {
  const panels = regions + PRODUCT_WORK_BYTES;
  return evenShares(k, shares).map(([start, end], t) => {
    const part = { k: end - start, n };
    const aPart = { ...a, byteOffset: a.byteOffset + 4 * start * a.colStride };
    const bPart = { ...b, byteOffset: b.byteOffset + 4 * start * b.rowStride };
    return [
      packCall(bPart, panels, part, [3]),
      { ...rowsCall(aPart, panels, copies + 4 * t * m * n, part, 0, m, regions), perThread: [3, 10] },
    ];
  });
}

/**
 * A product split by rows packs a fresh B of this many values or more in PACK_SHARES blocks of panels that
 * both threads claim, before its rows: one thread had packed it while the other waited. Alternating on 2
 * threads, ResNet-50's 1x1 layers: `[400, 256] x [256, 1024]` 0.97x the time, `[400, 1024] x [256,
 * 1024]^T` 0.96x, `[1600, 512] x [512, 128]` 0.97x, `[784, 512] x [512, 512]` 0.98x (2 or 4 blocks: 0.97-1.0x).
 */
const MIN_SHARED_PACK_VALUES = 1 << 16;
const PACK_SHARES = 8;

/** B's panels packed in `shares` blocks of whole panels, each a task: B (k x n as viewed) at `packed`. */
function packTasks(
  b: MatrixView,
  packed: number,
  { k, n }: { k: number; n: number },
  shares: number,
): ProductTask[] {
  const panels = Math.ceil(n / PANEL_COLUMNS);
  return evenShares(panels, shares).map(([first, end]) => {
    const start = first * PANEL_COLUMNS;
    const columns = Math.min(n, end * PANEL_COLUMNS) - start;
    const block = { ...b, byteOffset: b.byteOffset + 4 * start * b.colStride };
    return [packCall(block, packed + 4 * start * k, { k, n: columns }, [])];
  });
}

/** Rows per task for MAX_ROW_TASKS blocks, at least this many (a block of fewer rows reuses B less). */
const MIN_BLOCK_ROWS = 32;
const MAX_ROW_TASKS = 32;

/**
 * A product's rows as [start, end) blocks for the threads to claim: whole 4-row tiles, at least
 * MIN_BLOCK_ROWS, at most MAX_ROW_TASKS blocks; all rows at once for one thread.
 */
export function rowBlocks(m: number, threads: boolean): Array<[number, number]> {
  if (!threads) return [[0, m]];
  const size = Math.max(MIN_BLOCK_ROWS, 4 * Math.ceil(m / (4 * MAX_ROW_TASKS)));
  const blocks: Array<[number, number]> = [];
  for (let start = 0; start < m; start += size) blocks.push([start, Math.min(m, start + size)]);
  return blocks;
}

function packCall(
  b: MatrixView,
  packed: number,
  { k, n }: { k: number; n: number },
  perThread: number[],
): ProductCall {
  return {
    name: 'packPanels',
    args: [b.byteOffset, 4 * b.rowStride, 4 * b.colStride, packed, k, n],
    perThread,
  };
}

/**
 * Rows start..end of C's n columns (in rows `rowFloats` apart, n by default), then the epilogue if any;
 * `work` is the thread's work area (per thread), B's panels at `packed`.
 */
function rowsCall(
  a: MatrixView,
  packed: number,
  c: number,
  { k, n, rowFloats = n }: { k: number; n: number; rowFloats?: number },
  start: number,
  end: number,
  work: number,
  perThread: number[] = [],
  epilogue?: ProductEpilogue,
): ProductCall {
  const finish = epilogue === undefined ? [0, 0] : [epilogue.bias, epilogueCode(epilogue.activation)];
  return {
    name: 'productRows',
    args: [
      a.byteOffset,
      4 * a.rowStride,
      4 * a.colStride,
      packed,
      c,
      4 * rowFloats,
      start,
      end,
      n,
      k,
      work,
      ...finish,
    ],
    perThread: [...perThread, 10],
  };
}
