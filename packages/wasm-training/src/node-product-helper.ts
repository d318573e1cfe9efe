import v8 from 'node:v8';
import { Worker } from 'node:worker_threads';
import {
  MAX_SHARED_TASKS,
  PRODUCT_EXPORTS,
  type ProductHelper,
  type ProductTask,
  productModule,
  setProductHelper,
  simdModule,
} from './packed-product.js';
import { MAX_SHARED_SIMD_ARGS } from './shared-simd-exports.js';

// The control block shared with the helper thread (int32 slots). JOB: the job's number (1..0x7fff, the
// helper waits for it to change); NEXT and COMPLETED: the job's number in the high half, the next task to
// claim and the tasks run in the low half; FAILED: the number of a job with a task that threw on the helper;
// SLEEPING: 1 while the helper waits in Atomics.wait (only then does a new job need Atomics.notify).
const JOB = 0;
const NEXT = 1;
const COMPLETED = 2;
const FAILED = 3;
const COUNT = 4;
const STRIDE = 5;
const SLEEPING = 6;
const TASKS = 8;
/**
 * A call: its export (-1 none, else its index in PRODUCT_EXPORTS), a mask of its per-thread arguments, the
 * number of its arguments, then those (productRows' 13, a SIMD function's up to MAX_SHARED_SIMD_ARGS).
 */
const CALL_SLOTS = 3 + Math.max(13, MAX_SHARED_SIMD_ARGS);
const CALLS_PER_TASK = 2;
const TASK_SLOTS = CALLS_PER_TASK * CALL_SLOTS;
/** NEXT's low half once a job is closed: no task index reaches it. */
const CLOSED = 0xffff;
/** A task takes milliseconds; a helper silent for this long has died. */
const JOIN_TIMEOUT_MS = 60_000;
/**
 * How long either thread polls before it sleeps: the helper for the next job, this thread for the helper's
 * last task. A futex wake-up took 40-55 us of this thread's time here (a training step of the tiny model
 * had 11 jobs), and the woken thread starts later still; a step's jobs mostly come within this of each
 * other. Longer polls cost the big trunks' steps: XNNPACK's worker wants the helper's core between jobs.
 */
const POLL_MS = 0.2;

/** The index of the next unclaimed task of `job`, or -1: run on both threads (the helper gets its source). */
function claimTask(state: Int32Array, job: number): number {
  for (;;) {
    const word = Atomics.load(state, NEXT);
    const index = word & 0xffff;
    if (word >>> 16 !== job || index >= state[COUNT]) return -1;
    if (Atomics.compareExchange(state, NEXT, word, word + 1) === word) return index;
  }
}

// The helper thread: waits for a new job, claims its tasks until none is left, runs each (its per-thread
// arguments moved by the job's stride) and counts it run; a task that throws marks the job failed.
const HELPER_SOURCE = `
const { workerData } = require('node:worker_threads');
const { module, simd, memory, control } = workerData;
const exports = new WebAssembly.Instance(module, { env: { memory } }).exports;
const transforms = new WebAssembly.Instance(simd, { env: { memory } }).exports;
const exported = ${JSON.stringify(PRODUCT_EXPORTS)}.map((name) => exports[name] ?? transforms[name]);
const state = new Int32Array(control);
const NEXT = ${NEXT}, COUNT = ${COUNT};
const claimTask = ${claimTask.toString()};
let seen = 0;
for (;;) {
  const until = performance.now() + ${POLL_MS};
  while (Atomics.load(state, ${JOB}) === seen && performance.now() < until);
  if (Atomics.load(state, ${JOB}) === seen) {
    Atomics.store(state, ${SLEEPING}, 1);
    Atomics.wait(state, ${JOB}, seen);
    Atomics.store(state, ${SLEEPING}, 0);
  }
  const job = Atomics.load(state, ${JOB});
  seen = job;
  const stride = state[${STRIDE}];
  for (let task = claimTask(state, job); task >= 0; task = claimTask(state, job)) {
    try {
      for (let call = 0; call < ${CALLS_PER_TASK}; call++) {
        const at = ${TASKS} + task * ${TASK_SLOTS} + call * ${CALL_SLOTS};
        if (state[at] < 0) break;
        const mask = state[at + 1];
        const args = Array.from(state.subarray(at + 3, at + 3 + state[at + 2]), (arg, i) =>
          (mask >> i) & 1 ? arg + stride : arg,
        );
        exported[state[at]](...args);
      }
    } catch {
      Atomics.store(state, ${FAILED}, job);
    }
    Atomics.add(state, ${COMPLETED}, 1);
    Atomics.notify(state, ${COMPLETED});
  }
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

/** Writes a job's tasks into the control block's task slots. */
function writeTasks(state: Int32Array, tasks: ProductTask[]): void {
  for (const [index, task] of tasks.entries()) {
    if (task.length > CALLS_PER_TASK) {
      throw new Error(`ProductHelper.share: at most ${CALLS_PER_TASK} calls a task, got ${task.length}`);
    }
    for (let call = 0; call < CALLS_PER_TASK; call++) {
      const at = TASKS + index * TASK_SLOTS + call * CALL_SLOTS;
      if (call >= task.length) {
        state[at] = -1;
        continue;
      }
      const { name, args, perThread } = task[call];
      if (args.length > CALL_SLOTS - 3) {
        throw new Error(
          `ProductHelper.share: at most ${CALL_SLOTS - 3} arguments a call, got ${args.length}`,
        );
      }
      state[at] = PRODUCT_EXPORTS.indexOf(name);
      // A name the helper does not know would be skipped there, its share of the job left undone.
      if (state[at] < 0) throw new Error(`ProductHelper.share: '${name}' is not a function the helper runs`);
      state[at + 1] = perThread.reduce((mask, i) => mask | (1 << i), 0);
      state[at + 2] = args.length;
      state.set(args, at + 3);
    }
  }
}

/**
 * Starts a thread that shares the tasks of our matrix product module's jobs on `memory` (the threaded
 * build's shared memory): tfjs-backend-wasm's own thread pool runs only its own kernels. The thread does
 * not keep the process alive. False where the memory is not shared.
 */
export function startProductHelper(memory: WebAssembly.Memory): boolean {
  if (!(memory.buffer instanceof SharedArrayBuffer)) return false;
  const compiled = productModule(true);
  const simd = simdModule(true);
  if (compiled === null || simd === null) return false;
  const control = new SharedArrayBuffer(4 * (TASKS + MAX_SHARED_TASKS * TASK_SLOTS));
  const state = new Int32Array(control);
  const worker = new Worker(HELPER_SOURCE, {
    eval: true,
    workerData: { module: compiled.module, simd, memory, control },
  });
  worker.unref();
  let job = 0;
  const helper: ProductHelper = {
    share(tasks, threadStride, runHere) {
      if (tasks.length > MAX_SHARED_TASKS) {
        throw new Error(`ProductHelper.share: at most ${MAX_SHARED_TASKS} tasks, got ${tasks.length}`);
      }
      job = (job % 0x7fff) + 1;
      const tag = job << 16;
      writeTasks(state, tasks);
      state[COUNT] = tasks.length;
      state[STRIDE] = threadStride;
      state[FAILED] = 0;
      Atomics.store(state, COMPLETED, tag);
      Atomics.store(state, NEXT, tag);
      Atomics.store(state, JOB, job);
      // The helper sets SLEEPING before it checks JOB a last time, so one of the two sees the other.
      if (Atomics.load(state, SLEEPING) === 1) Atomics.notify(state, JOB);
      try {
        for (let task = claimTask(state, job); task >= 0; task = claimTask(state, job)) {
          try {
            runHere(tasks[task]);
          } finally {
            Atomics.add(state, COMPLETED, 1);
          }
        }
      } finally {
        // Close the job (a helper waking late claims nothing), then wait for the tasks it claimed.
        const claimed = Math.min(Atomics.exchange(state, NEXT, tag | CLOSED) & 0xffff, tasks.length);
        waitForCompleted(state, tag | claimed);
      }
      if (Atomics.load(state, FAILED) === job) {
        throw new Error('@deepmask/wasm-training: the matrix product helper thread failed');
      }
    },
  };
  setProductHelper(memory, helper);
  return true;
}

function waitForCompleted(state: Int32Array, target: number): void {
  const until = performance.now() + POLL_MS;
  while (Atomics.load(state, COMPLETED) !== target && performance.now() < until);
  for (;;) {
    const completed = Atomics.load(state, COMPLETED);
    if (completed === target) return;
    if (Atomics.wait(state, COMPLETED, completed, JOIN_TIMEOUT_MS) === 'timed-out') {
      throw new Error(
        `@deepmask/wasm-training: the matrix product helper thread did not answer in ${JOIN_TIMEOUT_MS} ms`,
      );
    }
  }
}
