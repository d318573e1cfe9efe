import { MATRIX_PRODUCT_WASM, PANEL_COLUMNS, PRODUCT_WORK_BYTES } from './matrix-product-wasm.js';

/** A matrix in wasm memory: element (i, j) at `byteOffset + 4 (i rowStride + j colStride)`. */
export interface MatrixView {
  byteOffset: number;
  rowStride: number;
  colStride: number;
}

/** A right operand as viewed, or already packed (by `pack`) at `packedAt`. */
export type RightOperand = MatrixView | { packedAt: number };

/** A call of the product module's exports. */
export interface ProductCall {
  name: 'packPanels' | 'productRows';
  args: number[];
}

/** Runs calls of the product module on a second thread while the caller runs others. */
export interface ProductHelper {
  /** Starts the calls, in order, on the helper thread. */
  start(calls: ProductCall[]): void;
  /** Waits until the started calls have returned; throws when one failed. */
  join(): void;
}

/** Our matrix product (`scripts/matrix-product-wat.ts`) on one wasm memory. */
export interface PackedProduct {
  /** True when its multiply-adds are relaxed SIMD's fused ones. */
  fused: boolean;
  /**
   * True when it beats XNNPACK on a product (or a batch: `multiplyEach`) of this many multiply-adds: with
   * a helper thread from MIN_THREADED_MULTIPLY_ADDS (below, alone against XNNPACK's two threads, it
   * loses), and on the single-threaded build (1.5-2x XNNPACK's one thread).
   */
  worthwhile(multiplyAdds: number): boolean;
  /** Floats of packed B for a k x n right operand. */
  packedSize(k: number, n: number): number;
  /** Packs B (k x n as viewed) at `packed` (packedSize floats), for products that keep it. */
  pack(b: MatrixView, packed: number, dims: { k: number; n: number }): void;
  /**
   * C (m x n, row-major at `c`) = A B with A m x k and B k x n as viewed (or packed); `packed` (where B
   * is packed unless it is already) and `work` (PRODUCT_WORK_BYTES per thread, two one after the other)
   * are float32 buffers in the same memory.
   */
  multiply(
    a: MatrixView,
    b: RightOperand,
    c: number,
    dims: { m: number; k: number; n: number },
    buffers: { packed: number; work: number },
  ): void;
  /**
   * Several products of the same dims (C_i = A_i B_i, each as `multiply`), each thread taking whole
   * products: one wake-up for all, each packing its own B's. `packed` holds two packed B's (one a thread).
   */
  multiplyEach(
    products: Array<{ a: MatrixView; b: RightOperand; c: number }>,
    dims: { m: number; k: number; n: number },
    buffers: { packed: number; work: number },
  ): void;
}

/** Products below which a second thread costs more than it saves (its wake-up is 10-50 us). */
const MIN_THREADED_MULTIPLY_ADDS = 1 << 21;

type Exported = (...args: number[]) => void;

const byMemory = new WeakMap<WebAssembly.Memory, PackedProduct | null>();
const helpers = new WeakMap<WebAssembly.Memory, ProductHelper>();

/** The compiled product module for a memory of this kind, fused where relaxed SIMD validates. */
export function productModule(shared: boolean): { module: WebAssembly.Module; fused: boolean } | null {
  const variants = shared ? MATRIX_PRODUCT_WASM.shared : MATRIX_PRODUCT_WASM.plain;
  for (const fused of [true, false]) {
    const bytes = Uint8Array.from(atob(fused ? variants.fused : variants.separate), (c) => c.charCodeAt(0));
    if (WebAssembly.validate(bytes)) return { module: new WebAssembly.Module(bytes), fused };
  }
  return null;
}

/** Lets products on `memory` hand half their rows to `helper` (a thread running productModule's module). */
export function setProductHelper(memory: WebAssembly.Memory, helper: ProductHelper): void {
  helpers.set(memory, helper);
  byMemory.delete(memory);
}

/** The helper that products on `memory` hand rows to, if any. */
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
  if (compiled === null) return null;
  const exports = new WebAssembly.Instance(compiled.module, { env: { memory } }).exports;
  const packPanels = exports.packPanels as Exported;
  const productRows = exports.productRows as Exported;
  const helper = helpers.get(memory);
  return {
    fused: compiled.fused,
    worthwhile: (multiplyAdds) =>
      helper === undefined ? !shared : multiplyAdds >= MIN_THREADED_MULTIPLY_ADDS,
    packedSize: (k, n) => Math.ceil(n / PANEL_COLUMNS) * PANEL_COLUMNS * k,
    pack: (b, packed, dims) => run([packCall(b, packed, dims)]),
    multiply: (a, b, c, dims, { packed, work }) => {
      const { m, k, n } = dims;
      const { packs, at } = packing(b, packed, dims);
      if (helper === undefined || m * k * n < MIN_THREADED_MULTIPLY_ADDS) {
        run([...packs, rowsCall(a, at, c, dims, 0, m, work)]);
        return;
      }
      run(packs);
      // Split at a multiple of 4 so that both halves run whole tiles.
      const split = Math.round(m / 8) * 4;
      helper.start([rowsCall(a, at, c, dims, split, m, work + PRODUCT_WORK_BYTES)]);
      try {
        run([rowsCall(a, at, c, dims, 0, split, work)]);
      } finally {
        helper.join();
      }
    },
    multiplyEach: (products, dims, { packed, work }) => {
      const packedBytes = 4 * Math.ceil(dims.n / PANEL_COLUMNS) * PANEL_COLUMNS * dims.k;
      const calls = (list: typeof products, thread: number) =>
        list.flatMap(({ a, b, c }) => {
          const { packs, at } = packing(b, packed + thread * packedBytes, dims);
          return [...packs, rowsCall(a, at, c, dims, 0, dims.m, work + thread * PRODUCT_WORK_BYTES)];
        });
      if (helper === undefined) {
        run(calls(products, 0));
        return;
      }
      const half = Math.floor(products.length / 2);
      helper.start(calls(products.slice(half), 1));
      try {
        run(calls(products.slice(0, half), 0));
      } finally {
        helper.join();
      }
    },
  };

  function run(calls: ProductCall[]): void {
    for (const { name, args } of calls) (name === 'packPanels' ? packPanels : productRows)(...args);
  }
}

/** Where B's panels are, and the call that packs them there unless B is packed already. */
function packing(b: RightOperand, packed: number, dims: { k: number; n: number }) {
  return 'packedAt' in b ? { packs: [], at: b.packedAt } : { packs: [packCall(b, packed, dims)], at: packed };
}

function packCall(b: MatrixView, packed: number, { k, n }: { k: number; n: number }): ProductCall {
  return { name: 'packPanels', args: [b.byteOffset, 4 * b.rowStride, 4 * b.colStride, packed, k, n] };
}

function rowsCall(
  a: MatrixView,
  packed: number,
  c: number,
  { k, n }: { k: number; n: number },
  start: number,
  end: number,
  work: number,
): ProductCall {
  return {
    name: 'productRows',
    args: [a.byteOffset, 4 * a.rowStride, 4 * a.colStride, packed, c, 4 * n, start, end, n, k, work],
  };
}
