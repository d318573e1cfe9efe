import { getThreadsCount, setThreadsCount } from '@tensorflow/tfjs-backend-wasm';
import * as tf from '@tensorflow/tfjs-core';
import { registerWasmTrainingKernels } from './register.js';
import { wasmMemoryOf } from './wasm-heap.js';
import { guardWasmMemory } from './wasm-memory-guard.js';

export interface WasmBackendOptions {
  /**
   * Threads for wasm's kernels. Default: every core of the machine. 1 selects the single-threaded SIMD
   * build. In a browser they are XNNPACK's thread pool; in Node, XNNPACK's pool takes one less and our
   * kernels' helper thread is the last. Ignored when the wasm backend was initialised before this call.
   */
  threads?: number;
}

export interface WasmBackendChoice {
  /** Threads the wasm backend actually runs with (in Node: XNNPACK's pool and our helper thread). */
  threads: number;
  /** The wasm binary in use. */
  build: 'threaded-simd' | 'simd';
  /** Why `threads` differs from the request, when it does. */
  note?: string;
}

let choice: WasmBackendChoice | undefined;

/**
 * Initialises tfjs-backend-wasm (making it the active backend) with the threaded SIMD build when more
 * than one thread is asked for, and registers the training kernels. Idempotent: the wasm module loads
 * once per process, so later calls return the first call's choice. An allocation beyond wasm32's 4 GiB
 * then throws a clear error (see `guardWasmMemory`).
 */
export async function initWasmBackend(options: WasmBackendOptions = {}): Promise<WasmBackendChoice> {
  if (options.threads !== undefined && !(Number.isInteger(options.threads) && options.threads >= 1)) {
    throw new Error(`initWasmBackend: options.threads must be an integer >= 1, got ${options.threads}`);
  }
  registerWasmTrainingKernels();
  if (choice === undefined) choice = await loadWasm(options.threads);
  if (!(await tf.setBackend('wasm')))
    throw new Error('initWasmBackend: the wasm backend failed to initialise');
  guardWasmMemory(tf.backend());
  return choice;
}

async function loadWasm(requested: number | undefined): Promise<WasmBackendChoice> {
  if (tf.engine().registry.wasm !== undefined) {
    return {
      threads: getThreadsCount(),
      build: getThreadsCount() > 1 ? 'threaded-simd' : 'simd',
      note: 'already initialised',
    };
  }
  if (!tf.env().getBool('IS_NODE')) {
    if (requested !== undefined) setThreadsCount(requested);
    await initialise();
    const threads = getThreadsCount();
    return { threads, build: threads > 1 ? 'threaded-simd' : 'simd' };
  }
  const { cpuCount, withNodeSimdWasm, withNodeThreadedWasm } = await import('./node-threaded-wasm.js');
  const { enableRelaxedSimd, startProductHelper } = await import('./node-product-helper.js');
  enableRelaxedSimd();
  const threads = requested ?? cpuCount();
  if (threads === 1) {
    await withNodeSimdWasm(initialise);
    return { threads: 1, build: 'simd' };
  }
  // Our helper thread takes one of the threads: a thread beyond the cores costs more than it brings. On 2
  // cores, XNNPACK's worker (which polls after each of its kernels) and our helper took turns on the second
  // core: the tiny model's training step 8.9-10.9 ms against 6.3-8.8 with XNNPACK on the calling thread only,
  // ResNet-50's 594-680 against 558-567, VGG-A's 1080-1115 against 963-983 (alternating runs).
  const note = await withNodeThreadedWasm(threads - 1, initialise);
  if (note !== undefined) return { threads: getThreadsCount(), build: 'simd', note };
  const memory = wasmMemoryOf(tf.findBackend('wasm'));
  const helper = memory !== null && startProductHelper(memory);
  const actual = getThreadsCount() + (helper ? 1 : 0);
  return {
    threads: actual,
    build: 'threaded-simd',
    ...(helper ? {} : { note: 'the helper thread of our kernels could not start' }),
  };
}

async function initialise(): Promise<void> {
  if (!(await tf.setBackend('wasm')))
    throw new Error('initWasmBackend: the wasm backend failed to initialise');
  await tf.ready();
}
