import v8 from 'node:v8';
import { Worker } from 'node:worker_threads';
import { type ProductHelper, productModule, setProductHelper } from './packed-product.js';

/** Slots of the control block shared with the helper thread: job number, job done, calls, then the calls. */
const JOB = 0;
const DONE = 1;
const COUNT = 2;
const CALLS = 3;
/** A call: which export (0 packPanels, 1 productRows), then its arguments. */
const CALL_SLOTS = 12;
const MAX_CALLS = 64;
/** A product's half takes milliseconds; a helper silent for this long has died. */
const JOIN_TIMEOUT_MS = 60_000;

// The helper thread: waits for a job number, runs the job's calls on the shared memory, reports the job
// done (negated when a call threw).
const HELPER_SOURCE = `
const { workerData } = require('node:worker_threads');
const { module, memory, control } = workerData;
const { packPanels, productRows } = new WebAssembly.Instance(module, { env: { memory } }).exports;
const exported = [packPanels, productRows];
const state = new Int32Array(control);
let job = 0;
for (;;) {
  Atomics.wait(state, ${JOB}, job);
  job = Atomics.load(state, ${JOB});
  let done = job;
  try {
    for (let call = 0; call < state[${COUNT}]; call++) {
      const at = ${CALLS} + call * ${CALL_SLOTS};
      exported[state[at]](...state.subarray(at + 1, at + ${CALL_SLOTS}));
    }
  } catch {
    done = -job;
  }
  Atomics.store(state, ${DONE}, done);
  Atomics.notify(state, ${DONE});
}`;

// f32x4.relaxed_madd alone: the smallest module that needs relaxed SIMD.
const RELAXED_SIMD_PROBE = Uint8Array.from(
  atob('AGFzbQEAAAABCAFgA3t7ewF7AwIBAAoNAQsAIAAgASAC/YUCCw=='),
  (c) => c.charCodeAt(0),
);

/**
 * Node 20's V8 has relaxed SIMD (fused multiply-adds, 1.3-1.5x our product's speed) behind a flag, which
 * applies to modules compiled after it is set; Node 22 and browsers have it on.
 */
export function enableRelaxedSimd(): boolean {
  if (!WebAssembly.validate(RELAXED_SIMD_PROBE)) v8.setFlagsFromString('--experimental-wasm-relaxed-simd');
  return WebAssembly.validate(RELAXED_SIMD_PROBE);
}

/**
 * Starts a thread that takes half the rows of every product of our matrix product module on `memory`
 * (the threaded build's shared memory): tfjs-backend-wasm's own thread pool runs only its own kernels.
 * The thread does not keep the process alive. False where the memory is not shared.
 */
export function startProductHelper(memory: WebAssembly.Memory): boolean {
  if (!(memory.buffer instanceof SharedArrayBuffer)) return false;
  const compiled = productModule(true);
  if (compiled === null) return false;
  const control = new SharedArrayBuffer(4 * (CALLS + MAX_CALLS * CALL_SLOTS));
  const state = new Int32Array(control);
  const worker = new Worker(HELPER_SOURCE, {
    eval: true,
    workerData: { module: compiled.module, memory, control },
  });
  worker.unref();
  let job = 0;
  const helper: ProductHelper = {
    start(calls) {
      if (calls.length > MAX_CALLS)
        throw new Error(`ProductHelper.start: at most ${MAX_CALLS} calls, got ${calls.length}`);
      job += 1;
      for (const [index, { name, args }] of calls.entries()) {
        state[CALLS + index * CALL_SLOTS] = name === 'packPanels' ? 0 : 1;
        state.set(args, CALLS + index * CALL_SLOTS + 1);
      }
      state[COUNT] = calls.length;
      Atomics.store(state, JOB, job);
      Atomics.notify(state, JOB);
    },
    join() {
      for (;;) {
        const done = Atomics.load(state, DONE);
        if (done === job) return;
        if (done === -job)
          throw new Error('@deepmask/wasm-training: the matrix product helper thread failed');
        if (Atomics.wait(state, DONE, done, JOIN_TIMEOUT_MS) === 'timed-out') {
          throw new Error(
            `@deepmask/wasm-training: the matrix product helper thread did not answer in ${JOIN_TIMEOUT_MS} ms`,
          );
        }
      }
    },
  };
  setProductHelper(memory, helper);
  return true;
}
