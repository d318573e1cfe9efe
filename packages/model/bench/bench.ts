/**
 * Forward (patch and dense form) and one training step per trunk on wasm, side by side with the same
 * architecture in PyTorch on CPU (bench/torch_deepmask.py, 2 threads), case by case in one run.
 * Then the ceiling that bounds both: one 3x3 convolution and one matrix product, the same on each side.
 * Usage: pnpm --filter @deepmask/model bench [-- --trunks tiny,resnet50 --reps 3]
 * Prints two tables, then one JSON line {"bench": "@deepmask/model", ...}.
 */
import '@tensorflow/tfjs'; // registers the gradients (tfjs-core's Node bundle has none) and the cpu backend
import { spawnSync } from 'node:child_process';
import { cpus } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { deepMaskLoss } from '@deepmask/loss';
import { initWasmBackend, registerWasmTrainingKernels } from '@deepmask/wasm-training';
import { getThreadsCount } from '@tensorflow/tfjs-backend-wasm';
import * as tf from '@tensorflow/tfjs-core';
import { createDeepMask, type DeepMaskConfig, defaultConfig, type TrunkName } from '../src/index.js';

interface Case {
  name: TrunkName;
  config: DeepMaskConfig;
  patchBatch: number;
  trainBatch: number;
  denseSizePx: number;
  reps: number;
}

interface Timings {
  patchMs: number;
  denseMs: number;
  trainMs: number;
}

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

const reps = Number(arg('reps') ?? 3);
const trunks = (arg('trunks') ?? 'tiny,mobilenet-v1,resnet50,vgg-a').split(',') as TrunkName[];
const CASES: Case[] = trunks.map((name) => {
  const config = defaultConfig(name);
  const small = name === 'tiny';
  // Dense: a square image of twice the patch side, (2F - F + 1)^2 windows.
  return {
    name,
    config,
    patchBatch: small ? 32 : 4,
    trainBatch: small ? 32 : 4,
    denseSizePx: 2 * config.inputSizePx,
    reps,
  };
});

/** Best of `count` runs after one warm-up: the machine is shared, and the best run is the least disturbed. */
async function bestMs(fn: () => Promise<void>, count: number): Promise<number> {
  await fn();
  let best = Number.POSITIVE_INFINITY;
  for (let i = 0; i < count; i++) {
    const start = performance.now();
    await fn();
    best = Math.min(best, performance.now() - start);
  }
  return best;
}

async function benchWasm(c: Case): Promise<Timings> {
  const model = createDeepMask(c.config);
  const size = c.config.inputSizePx;
  const o = c.config.maskSizePx;
  const patches = tf.randomUniform([c.patchBatch, size, size, 3], 0, 255) as tf.Tensor4D;
  const image = tf.randomUniform([1, c.denseSizePx, c.denseSizePx, 3], 0, 255) as tf.Tensor4D;
  const batch = tf.randomUniform([c.trainBatch, size, size, 3], 0, 255) as tf.Tensor4D;
  const maskTargets = tf
    .sub(tf.mul(tf.randomUniform([c.trainBatch, o, o], 0, 2, 'int32'), 2), 1)
    .toFloat() as tf.Tensor3D;
  const labels = tf
    .sub(tf.mul(tf.randomUniform([c.trainBatch], 0, 2, 'int32'), 2), 1)
    .toFloat() as tf.Tensor1D;
  const optimizer = tf.train.momentum(1e-3, 0.9);
  const patchMs = await bestMs(async () => {
    const out = model.predictPatches(patches);
    await Promise.all([out.maskLogits.data(), out.scoreLogits.data()]);
    tf.dispose(out);
  }, c.reps);
  const denseMs = await bestMs(async () => {
    const out = model.predictDense(image);
    await Promise.all([out.maskEmbedding.data(), out.scoreLogits.data()]);
    tf.dispose(out);
  }, c.reps);
  const trainMs = await bestMs(async () => {
    const loss = optimizer.minimize(
      () => {
        const { maskLogits, scoreLogits } = model.predictPatches(batch, { training: true });
        return deepMaskLoss({ maskLogits, scoreLogits, maskTargets, labels }).total;
      },
      true,
      model.trainableVariables,
    );
    await loss?.data();
    loss?.dispose();
  }, c.reps);
  optimizer.dispose();
  tf.dispose([patches, image, batch, maskTargets, labels]);
  model.dispose();
  return { patchMs, denseMs, trainMs };
}

/** [batch, size, channels] of a 3x3 'same' convolution with as many output channels (VGG-A's conv3). */
const CEILING_CONV = [4, 56, 256] as const;
/** Side of the square matrix multiplied by itself. */
const CEILING_MATMUL = 1024;

interface Ceiling {
  convMs: number;
  matMulMs: number;
}

async function ceilingWasm(): Promise<Ceiling> {
  const [n, size, channels] = CEILING_CONV;
  const x = tf.randomUniform([n, size, size, channels]) as tf.Tensor4D;
  const filter = tf.randomUniform([3, 3, channels, channels]) as tf.Tensor4D;
  const a = tf.randomUniform([CEILING_MATMUL, CEILING_MATMUL]) as tf.Tensor2D;
  const timed = (op: () => tf.Tensor) => async () => {
    const out = op();
    await out.data();
    out.dispose();
  };
  const convMs = await bestMs(
    timed(() => tf.conv2d(x, filter, 1, 'same')),
    reps,
  );
  const matMulMs = await bestMs(
    timed(() => tf.matMul(a, a)),
    reps,
  );
  tf.dispose([x, filter, a]);
  return { convMs, matMulMs };
}

const torchScript = join(dirname(fileURLToPath(import.meta.url)), 'torch_deepmask.py');
const torchCheck = spawnSync('/usr/bin/python3', ['-c', 'import torch'], { encoding: 'utf8' });
const torchAvailable = torchCheck.status === 0;

function runTorch<T>(name: string, input: object): T | null {
  if (!torchAvailable) return null;
  const run = spawnSync('/usr/bin/python3', [torchScript], {
    input: JSON.stringify([input]),
    encoding: 'utf8',
    maxBuffer: 1 << 20,
  });
  if (run.status !== 0) throw new Error(`torch_deepmask.py failed for ${name}: ${run.stderr}`);
  return JSON.parse(run.stdout.trim().split('\n').at(-1) ?? '{}') as T;
}

registerWasmTrainingKernels();
const wasmChoice = await initWasmBackend({ threads: 2 });
await tf.setBackend('wasm');
await tf.ready();
const wasmThreads = getThreadsCount();

const results = [];
for (const c of CASES) {
  const wasm = await benchWasm(c);
  const torch = runTorch<Timings>(c.name, c);
  results.push({
    trunk: c.name,
    inputSizePx: c.config.inputSizePx,
    patchBatch: c.patchBatch,
    trainBatch: c.trainBatch,
    denseSizePx: c.denseSizePx,
    wasm,
    torch,
  });
  console.error(`${c.name}: done`);
}

const ceiling = {
  wasm: await ceilingWasm(),
  torch: runTorch<Ceiling>('ceiling', { name: 'ceiling', reps, conv: CEILING_CONV, matMul: CEILING_MATMUL }),
};

const fmt = (n: number) => (n >= 100 ? n.toFixed(0) : n.toFixed(1));
const header = ['trunk', 'measure', 'n', 'wasm ms', 'wasm n/s', 'torch ms', 'torch n/s', 'wasm/torch'];
const rows: string[][] = [];
for (const r of results) {
  const measures: [string, keyof Timings, number][] = [
    [`patch fwd ${r.inputSizePx}px`, 'patchMs', r.patchBatch],
    [`dense fwd ${r.denseSizePx}px`, 'denseMs', 1],
    ['train step', 'trainMs', r.trainBatch],
  ];
  for (const [label, key, n] of measures) {
    const w = r.wasm[key];
    const t = r.torch?.[key];
    rows.push([
      r.trunk,
      label,
      String(n),
      fmt(w),
      fmt((1000 * n) / w),
      t ? fmt(t) : '-',
      t ? fmt((1000 * n) / t) : '-',
      t ? (w / t).toFixed(2) : '-',
    ]);
  }
}
const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i].length)));
const line = (cells: string[]) =>
  cells.map((cell, i) => (i < 2 ? cell.padEnd(widths[i]) : cell.padStart(widths[i]))).join('  ');
console.log(
  `machine: ${cpus().length} x ${cpus()[0]?.model ?? 'cpu'}; wasm threads ${wasmThreads} (asked initWasmBackend for 2, it chose ${wasmChoice.threads}); torch ${torchAvailable ? '2 threads' : 'absent (column skipped)'}`,
);
console.log(line(header));
console.log(line(widths.map((w) => '-'.repeat(w))));
for (const row of rows) console.log(line(row));

const [n, size, channels] = CEILING_CONV;
const ceilingFlops: [string, keyof Ceiling, number][] = [
  [`conv 3x3 ${n}x${size}x${size}x${channels}`, 'convMs', 2 * n * size * size * 9 * channels * channels],
  [`matMul ${CEILING_MATMUL}^3`, 'matMulMs', 2 * CEILING_MATMUL ** 3],
];
console.log('\nceiling (one kernel, GFLOP/s)');
for (const [label, key, flops] of ceilingFlops) {
  const w = ceiling.wasm[key];
  const t = ceiling.torch?.[key];
  const rate = (ms: number) => (flops / ms / 1e6).toFixed(0);
  console.log(
    `${label.padEnd(22)}  wasm ${fmt(w)} ms ${rate(w)} GFLOP/s  torch ${t ? `${fmt(t)} ms ${rate(t)} GFLOP/s  wasm/torch ${(w / t).toFixed(2)}` : '-'}`,
  );
}
console.log(
  JSON.stringify({
    bench: '@deepmask/model',
    machine: { cpus: cpus().length, model: cpus()[0]?.model },
    wasmThreads,
    torchThreads: torchAvailable ? 2 : null,
    reps,
    results,
    ceiling: { conv: CEILING_CONV, matMul: CEILING_MATMUL, ...ceiling },
  }),
);
// wasm threads keep the event loop alive
process.exit(0);
