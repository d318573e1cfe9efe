import { Worker } from 'node:worker_threads';
import wabt from 'wabt';

/** Independent accumulators: enough to cover the FMA's latency at two a cycle (fewer measured lower). */
const ACCUMULATORS = 12;
/** Loop turns per probe call: ~2 ms at this machine's rate. */
const TURNS = 1 << 17;
/** Probe calls before timing: V8 compiles the loop with Liftoff first, TurboFan after its first call. */
const WARM_UP_CALLS = 20;
const TIMED_MS = 200;
/** Timed rounds of all threads at once; the best counts (another process may take a core for a while). */
const ROUNDS = 3;

/** The 128-bit SIMD multiply-add rate of `threads` threads at once, and whether they were fused. */
export interface Simd128Peak {
  threads: number;
  fused: boolean;
  /** Multiply-adds count two FLOPs. */
  gflops: number;
}

/**
 * `run(turns)`: ACCUMULATORS independent f32x4 multiply-adds a turn on values in registers (relaxed SIMD's
 * fused one where `fused`, else a multiply and an add), so that no memory access bounds it.
 */
async function probeModule(fused: boolean): Promise<Uint8Array<ArrayBuffer>> {
  const names = Array.from({ length: ACCUMULATORS }, (_, i) => `$a${i}`);
  const step = (a: string) =>
    fused
      ? `(local.set ${a} (f32x4.relaxed_madd (local.get ${a}) (local.get $m) (local.get $c)))`
      : `(local.set ${a} (f32x4.add (f32x4.mul (local.get ${a}) (local.get $m)) (local.get $c)))`;
  const sum = names.slice(1).reduce((s, a) => `(f32x4.add ${s} (local.get ${a}))`, `(local.get ${names[0]})`);
  const wat = `(module (func (export "run") (param $turns i32) (result f32)
    (local $m v128) (local $c v128) ${names.map((a) => `(local ${a} v128)`).join(' ')}
    (local.set $m (f32x4.splat (f32.const 0.5))) (local.set $c (f32x4.splat (f32.const 0.5)))
    (loop $turn ${names.map(step).join(' ')}
      (local.set $turns (i32.sub (local.get $turns) (i32.const 1)))
      (br_if $turn (local.get $turns)))
    (f32x4.extract_lane 0 ${sum})))`;
  const assembler = await wabt();
  const module = assembler.parseWat('simd-peak.wat', wat, { simd: true, relaxed_simd: true });
  const { buffer } = module.toBinary({});
  module.destroy();
  return new Uint8Array(buffer);
}

// Each worker: compile, warm up, say ready; on 'go' run for TIMED_MS, reply with its multiply-adds a second.
const PROBE_THREAD = `
const { parentPort, workerData } = require('node:worker_threads');
const { run } = new WebAssembly.Instance(new WebAssembly.Module(workerData.bytes)).exports;
for (let i = 0; i < workerData.warmUpCalls; i++) run(workerData.turns);
parentPort.on('message', () => {
  let calls = 0;
  const start = performance.now();
  while (performance.now() - start < workerData.timedMs) { run(workerData.turns); calls++; }
  const seconds = (performance.now() - start) / 1000;
  parentPort.postMessage((calls * workerData.turns * workerData.multiplyAddsPerTurn) / seconds);
});
parentPort.postMessage('ready');
`;

/**
 * The most multiply-adds a second that wasm's 128-bit SIMD does on this machine with `threads` threads at
 * once, each in its own worker: no wasm kernel that reads memory goes faster, so a kernel that PyTorch
 * runs above it is out of wasm's reach here. Fused where relaxed SIMD validates (Node 20 needs
 * `--experimental-wasm-relaxed-simd`, which `initWasmBackend` sets), as our products are.
 */
export async function simd128Peak(threads: number): Promise<Simd128Peak> {
  const fusedBytes = await probeModule(true);
  const fused = WebAssembly.validate(fusedBytes);
  const bytes = fused ? fusedBytes : await probeModule(false);
  const workerData = {
    bytes,
    turns: TURNS,
    warmUpCalls: WARM_UP_CALLS,
    timedMs: TIMED_MS,
    multiplyAddsPerTurn: ACCUMULATORS * 4,
  };
  const workers = Array.from({ length: threads }, () => new Worker(PROBE_THREAD, { eval: true, workerData }));
  const nextMessage = (worker: Worker) =>
    new Promise<unknown>((resolve, reject) => {
      worker.once('message', resolve);
      worker.once('error', reject);
    });
  try {
    await Promise.all(workers.map(nextMessage));
    let best = 0;
    for (let round = 0; round < ROUNDS; round++) {
      const rates = workers.map(nextMessage);
      for (const worker of workers) worker.postMessage('go');
      const multiplyAddsPerSecond = (await Promise.all(rates)) as number[];
      best = Math.max(
        best,
        multiplyAddsPerSecond.reduce((sum, rate) => sum + rate, 0),
      );
    }
    return { threads, fused, gflops: (2 * best) / 1e9 };
  } finally {
    await Promise.all(workers.map((worker) => worker.terminate()));
  }
}
