/** The emscripten module of tfjs-backend-wasm: the parts the guard touches. */
interface WasmModule {
  asm: { malloc(bytes: number): number };
  _malloc(bytes: number): number;
  _free(address: number): void;
  HEAPU8: Uint8Array;
  onAbort?: (reason: unknown) => void;
}

// emscripten's getHeapMax() in every tfjs-backend-wasm 4.22 build: 65535 pages of 64 KiB.
const WASM_HEAP_MAX_BYTES = 4294901760;
const GIB = 2 ** 30;

const guarded = new WeakSet<WasmModule>();

/**
 * Makes the wasm backend throw a clear error when its heap cannot hold a tensor. tfjs-backend-wasm
 * 4.22's builds let malloc return 0 when wasm32's 4 GiB are exhausted, and the backend then writes the
 * tensor over address 0: the heap is corrupted, the SIMD build later aborts with `RuntimeError:
 * Aborted()` and the threaded build's workers stall forever. Sizes over the maximum are refused before
 * malloc, which takes a 32-bit size and would wrap them to a small block. An allocation inside a C++
 * kernel that fails (XNNPACK's packed weights) aborts the module: that abort is rethrown with the heap
 * size, since it almost always means the same. Idempotent per wasm module.
 */
export function guardWasmMemory(backend: unknown): void {
  const wasm = (backend as { wasm?: WasmModule }).wasm;
  if (wasm === undefined || guarded.has(wasm)) return;
  // Wraps the export itself: emscripten's lazy `_malloc` stub overwrites `_malloc` on its first call.
  const malloc = wasm.asm.malloc;
  wasm._malloc = (bytes: number): number => {
    const address = bytes > WASM_HEAP_MAX_BYTES ? 0 : malloc(bytes);
    if (address === 0 && bytes > 0) throw new Error(memoryExhaustedMessage(bytes, wasm.HEAPU8.length));
    return address;
  };
  // Thrown from emscripten's abort() before it marks the module aborted; it unwinds like its own error.
  wasm.onAbort = (reason) => {
    const why = reason ? ` (${String(reason)})` : '';
    throw new Error(
      `wasm aborted${why} with its heap at ${gib(wasm.HEAPU8.length)} GiB: ` +
        'most likely memory exhausted (4 GiB, the most wasm32 can address); use a smaller batch or input size',
      { cause: reason },
    );
  };
  guarded.add(wasm);
}

/**
 * Throws "wasm memory exhausted" unless the heap can still hold `bytes` that a C++ kernel allocates for
 * itself where a failure is not an abort: XNNPACK's matrix product only prints a warning and returns garbage.
 */
export function assertWasmHeadroom(backend: unknown, bytes: number): void {
  guardWasmMemory(backend);
  const { wasm } = backend as { wasm: WasmModule };
  wasm._free(wasm._malloc(bytes));
}

function memoryExhaustedMessage(bytes: number, heapBytes: number): string {
  return (
    `wasm memory exhausted (4 GiB, the most wasm32 can address): could not allocate ${gib(bytes)} GiB ` +
    `with the heap at ${gib(heapBytes)} GiB; use a smaller batch or input size`
  );
}

function gib(bytes: number): string {
  return (bytes / GIB).toFixed(2);
}
