import { TRANSPOSE_WASM, TRANSPOSE_WASM_SHARED } from './transpose-wasm.js';

/**
 * Transposes the 4x4 blocks of a float32 `[rows, cols]` matrix (`rows - rows % 4` by `cols - cols % 4`)
 * from `source` into `target`, both views of one wasm memory; false (nothing done) for other views.
 */
export type BlockTranspose = (
  source: Float32Array,
  target: Float32Array,
  rows: number,
  cols: number,
) => boolean;

interface EmscriptenModule {
  /** The threaded build's memory (created in JS, shared). */
  wasmMemory?: WebAssembly.Memory;
  /** The single-threaded build's memory (exported by its module). */
  asm?: { memory?: WebAssembly.Memory };
}

const byMemory = new WeakMap<WebAssembly.Memory, BlockTranspose | null>();

/**
 * `src/transpose.wat` (128-bit SIMD, 0.3-1.6 ns per value against 3-5 for a JS loop) instantiated on the
 * wasm backend's own memory, or null where that cannot be done (no SIMD, another backend).
 */
export function simdBlockTranspose(backend: unknown): BlockTranspose | null {
  const module = (backend as { wasm?: EmscriptenModule }).wasm;
  const memory = module?.wasmMemory ?? module?.asm?.memory;
  if (!(memory instanceof WebAssembly.Memory)) return null;
  if (!byMemory.has(memory)) byMemory.set(memory, instantiate(memory));
  return byMemory.get(memory) ?? null;
}

function instantiate(memory: WebAssembly.Memory): BlockTranspose | null {
  const shared = typeof SharedArrayBuffer !== 'undefined' && memory.buffer instanceof SharedArrayBuffer;
  let transposeBlocks: (...args: number[]) => void;
  try {
    const bytes = Uint8Array.from(atob(shared ? TRANSPOSE_WASM_SHARED : TRANSPOSE_WASM), (c) =>
      c.charCodeAt(0),
    );
    const instance = new WebAssembly.Instance(new WebAssembly.Module(bytes), { env: { memory } });
    transposeBlocks = instance.exports.transposeBlocks as (...args: number[]) => void;
  } catch {
    return null;
  }
  return (source, target, rows, cols) => {
    // After the memory grew, views taken before see an old buffer: those go to the JS loop.
    if (source.buffer !== memory.buffer || target.buffer !== memory.buffer) return false;
    transposeBlocks(source.byteOffset, target.byteOffset, rows, cols, rows - (rows % 4), cols - (cols % 4));
    return true;
  };
}
