/**
 * Forward (patch and dense form) and one training step per trunk on wasm, side by side with the same
 * architecture in PyTorch on CPU (bench/torch_deepmask.py, 2 threads), then the ceiling that bounds both:
 * one 3x3 convolution, one 1x1 convolution and one matrix product, the same on each side, and the most that
 * wasm's 128-bit SIMD does on this machine's two cores. The two sides alternate run by run
 * (this machine's speed drifts by 2x within minutes); each reports its best of `reps` after warm-ups, a
 * run of a short measure being several calls back to back.
 * Usage: pnpm --filter @deepmask/model bench [-- --trunks tiny,resnet50 --reps 3]
 * Prints two tables, then one JSON line {"bench": "@deepmask/model", ...}.
 */
import '@tensorflow/tfjs'; // registers the gradients (tfjs-core's Node bundle has none) and the cpu backend
import { cpus } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { deepMaskLoss } from '@deepmask/loss';
import { initWasmBackend, registerWasmTrainingKernels } from '@deepmask/wasm-training';
import { startReplicas } from '@deepmask/wasm-training/replicas';
import { sgdMomentumStep } from '@deepmask/wasm-training/sgd-momentum';
import { getThreadsCount } from '@tensorflow/tfjs-backend-wasm';
import * as tf from '@tensorflow/tfjs-core';
import {
  createDeepMask,
  type DeepMask,
  type DeepMaskConfig,
  defaultConfig,
  type TrunkName,
} from '../src/index.js';
import { simd128Peak } from './simd-peak.js';
import { TorchWorker } from './torch-worker.js';

interface Case {
  name: TrunkName;
  config: DeepMaskConfig;
  patchBatch: number;
  trainBatch: number;
  denseSizePx: number;
}

/** Best wall time (ms) of each side; torch's is null without python3-torch. */
interface SideBySide {
  wasm: number;
  torch: number | null;
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
  };
});

/** [batch, size, channels] of a 3x3 'same' convolution with as many output channels (VGG-A's conv3). */
const CEILING_CONV = [4, 56, 256] as const;
/** [batch, size, in, out] of a 1x1 convolution: ResNet-50's layer3 at 160 px, a product no transform reduces. */
const CEILING_POINTWISE = [4, 10, 1024, 256] as const;
/** Side of the square matrix multiplied by itself. */
const CEILING_MATMUL = 1024;

/** Data-parallel replicas of the training step: worker threads, each with wasm on one thread. */
const REPLICAS = 2;
const REPLICA_PROGRAM = new URL('./train-replica.mjs', import.meta.url);

const torch = TorchWorker.start(join(dirname(fileURLToPath(import.meta.url)), 'torch_deepmask.py'));
/** The torch side's version, threads and the BLAS that its Linear layers and matrix products go to. */
const torchAbout = await torch?.request<{ torch: string; threads: number; blas: string }>({ op: 'about' });
/** Debian's name for Netlib's reference BLAS, which leaves torch's Linear layers ~20x slower than OpenBLAS. */
const REFERENCE_BLAS = 'blas';

/**
 * Between runs of the two sides: PyTorch's OpenMP threads spin for a while after each parallel region
 * (and wasm's workers briefly too), which took a core from the other side's next run.
 */
const SETTLE_MS = 300;
const settle = () => new Promise((resolve) => setTimeout(resolve, SETTLE_MS));

/**
 * Short measures are repeated back to back until a timed run lasts about this long, sized from a warm run:
 * the first call after the pause between runs is the slowest on both sides (threads asleep, caches cold:
 * the tiny step's took 1.5-3x the steady time), and runs sized from a cold call held 4-7 tiny steps.
 */
const MIN_RUN_MS = 250;
const MAX_REPEAT = 50;

/**
 * Timed runs that each side first makes untimed. The JS around wasm's kernels (tfjs' engine and ours) runs
 * 1.5-2.5x slower until V8 has optimised it: the tiny model's dense forward took 4.0, 2.6 and 1.8 ms a call
 * over three rounds of 100 calls in one process.
 */
const WARM_UP_RUNS = 3;

/**
 * Warm-up runs of each side, then `reps` rounds of one wasm run and one torch run; the best of each. A run
 * of a short measure is `repeat` calls back to back, timed together (a lone call of a few ms mostly
 * measures the other side's caches and its threads waking up).
 */
async function alternate(wasmCall: () => Promise<void>, torchMeasure: string): Promise<SideBySide> {
  const wasmMs = async (repeat: number) => {
    await settle();
    const start = performance.now();
    for (let i = 0; i < repeat; i++) await wasmCall();
    return (performance.now() - start) / repeat;
  };
  const torchMs = async (repeat: number) => {
    await settle();
    return torch ? torch.runMs(torchMeasure, repeat) : Number.NaN;
  };
  const repeats = (callMs: number) => Math.min(MAX_REPEAT, Math.max(1, Math.ceil(MIN_RUN_MS / callMs)));
  // The first call creates the kernels' operators; the second sizes the warm-up runs, and the last warm-up
  // run (each side warm by then) the timed ones.
  await wasmMs(1);
  let wasmRepeat = repeats(await wasmMs(1));
  let torchRepeat = torch ? repeats(await torchMs(1)) : 0;
  let wasmWarmMs = 0;
  let torchWarmMs = 0;
  for (let i = 0; i < WARM_UP_RUNS; i++) {
    wasmWarmMs = await wasmMs(wasmRepeat);
    if (torch) torchWarmMs = await torchMs(torchRepeat);
  }
  wasmRepeat = repeats(wasmWarmMs);
  if (torch) torchRepeat = repeats(torchWarmMs);
  const best = { wasm: Number.POSITIVE_INFINITY, torch: torch ? Number.POSITIVE_INFINITY : null };
  for (let i = 0; i < reps; i++) {
    best.wasm = Math.min(best.wasm, await wasmMs(wasmRepeat));
    if (best.torch !== null) best.torch = Math.min(best.torch, await torchMs(torchRepeat));
  }
  return best;
}

/** Awaits a tensor-returning wasm call's values, then frees them. */
function readBack(op: () => tf.Tensor | tf.Tensor[]): () => Promise<void> {
  return async () => {
    const out = [op()].flat();
    await Promise.all(out.map((t) => t.data()));
    tf.dispose(out);
  };
}

type Measure = 'patch' | 'dense' | 'train' | 'replicas';

async function benchCase(c: Case): Promise<Record<Measure, SideBySide>> {
  await torch?.request({ op: 'case', case: c });
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
  // SGD with momentum as the trainer runs it (torch.optim.SGD(lr=1e-3, momentum=0.9) on the other side).
  const variables = model.trainableVariables;
  const velocities = variables.map((v) => tf.variable(tf.zerosLike(v), false));
  const sgdStep = { learningRate: 1e-3, momentum: 0.9, weightDecay: 0 };
  const lossOfBatch = () => {
    const { maskLogits, scoreLogits } = model.predictPatches(batch, { training: true });
    return deepMaskLoss({ maskLogits, scoreLogits, maskTargets, labels }).total;
  };
  const patch = await alternate(
    readBack(() => Object.values(model.predictPatches(patches))),
    'patch',
  );
  const dense = await alternate(
    readBack(() => Object.values(model.predictDense(image))),
    'dense',
  );
  const train = await alternate(
    readBack(() => {
      const { value, grads } = tf.variableGrads(lossOfBatch, variables);
      for (const [i, v] of variables.entries()) sgdMomentumStep(v, velocities[i], grads[v.name], sgdStep);
      tf.dispose(grads);
      return value;
    }),
    'train',
  );
  const replicas = await benchReplicas(c, model, { batch, maskTargets, labels });
  tf.dispose(velocities);
  tf.dispose([patches, image, batch, maskTargets, labels]);
  model.dispose();
  return { patch, dense, train, replicas };
}

/**
 * The same SGD step with the batch split between `REPLICAS` worker threads (wasm on one thread each) that
 * average their gradients; torch's side is its one training step again.
 */
async function benchReplicas(
  c: Case,
  model: DeepMask,
  tensors: Record<'batch' | 'maskTargets' | 'labels', tf.Tensor>,
): Promise<SideBySide> {
  const group = await startReplicas({
    program: REPLICA_PROGRAM,
    init: { config: c.config },
    replicas: REPLICAS,
    sgd: { momentum: 0.9, weightDecay: 0 },
  });
  const values = async (list: tf.Tensor[]) =>
    Promise.all(list.map(async (t) => (await t.data()) as Float32Array));
  await group.writeState({
    weights: await values(model.trainableVariables),
    velocities: model.trainableVariables.map((v) => new Float32Array(v.size)),
  });
  const [batch, maskTargets, labels] = await values([tensors.batch, tensors.maskTargets, tensors.labels]);
  const n = c.trainBatch;
  const shards = Array.from({ length: REPLICAS }, (_, r) => {
    const [from, to] = [Math.floor((n * r) / REPLICAS), Math.floor((n * (r + 1)) / REPLICAS)];
    const rows = (values: Float32Array) => values.slice((from * values.length) / n, (to * values.length) / n);
    return {
      shard: { patches: rows(batch), maskTargets: rows(maskTargets), labels: rows(labels) },
      weight: (to - from) / n,
      learningRate: 1e-3,
    };
  });
  try {
    return await alternate(async () => {
      await group.step(shards);
    }, 'train');
  } finally {
    await group.stop();
  }
}

async function benchCeiling(): Promise<Record<'conv' | 'pointwise' | 'matMul', SideBySide>> {
  await torch?.request({
    op: 'ceiling',
    conv: CEILING_CONV,
    pointwise: CEILING_POINTWISE,
    matMul: CEILING_MATMUL,
  });
  const [n, size, channels] = CEILING_CONV;
  const x = tf.randomUniform([n, size, size, channels]) as tf.Tensor4D;
  const filter = tf.randomUniform([3, 3, channels, channels]) as tf.Tensor4D;
  const [pn, pSize, pIn, pOut] = CEILING_POINTWISE;
  const px = tf.randomUniform([pn, pSize, pSize, pIn]) as tf.Tensor4D;
  const pFilter = tf.randomUniform([1, 1, pIn, pOut]) as tf.Tensor4D;
  const a = tf.randomUniform([CEILING_MATMUL, CEILING_MATMUL]) as tf.Tensor2D;
  const conv = await alternate(
    readBack(() => tf.conv2d(x, filter, 1, 'same')),
    'conv',
  );
  const pointwise = await alternate(
    readBack(() => tf.conv2d(px, pFilter, 1, 'valid')),
    'pointwise',
  );
  const matMul = await alternate(
    readBack(() => tf.matMul(a, a)),
    'matMul',
  );
  tf.dispose([x, filter, px, pFilter, a]);
  return { conv, pointwise, matMul };
}

registerWasmTrainingKernels();
const wasmChoice = await initWasmBackend({ threads: 2 });
await tf.setBackend('wasm');
await tf.ready();
/** XNNPACK's pool: in Node one thread less than asked, our kernels' helper thread the last. */
const xnnpackThreads = getThreadsCount();

const results = [];
for (const c of CASES) {
  results.push({ ...c, timings: await benchCase(c) });
  console.error(`${c.name}: done`);
}
const ceiling = await benchCeiling();
await torch?.stop();
await settle();
const peak = await simd128Peak(2);

const fmt = (n: number) => (n >= 100 ? n.toFixed(0) : n.toFixed(1));
const header = ['trunk', 'measure', 'n', 'wasm ms', 'wasm n/s', 'torch ms', 'torch n/s', 'wasm/torch'];
const rows: string[][] = [];
for (const r of results) {
  const measures: [string, keyof typeof r.timings, number][] = [
    [`patch fwd ${r.config.inputSizePx}px`, 'patch', r.patchBatch],
    [`dense fwd ${r.denseSizePx}px`, 'dense', 1],
    ['train step', 'train', r.trainBatch],
    [`train step, ${REPLICAS} replicas`, 'replicas', r.trainBatch],
  ];
  for (const [label, key, n] of measures) {
    const { wasm: w, torch: t } = r.timings[key];
    rows.push([
      r.name,
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
  `machine: ${cpus().length} x ${cpus()[0]?.model ?? 'cpu'}; wasm threads ${wasmChoice.threads} (asked initWasmBackend for 2: XNNPACK's pool ${xnnpackThreads}, our helper ${wasmChoice.threads - xnnpackThreads}); torch ${torchAbout ? `${torchAbout.torch}, ${torchAbout.threads} threads, BLAS ${torchAbout.blas}` : 'absent (column skipped)'}`,
);
if (torchAbout?.blas === REFERENCE_BLAS) {
  console.log(
    "warning: torch's matrix products (its Linear layers) run on Netlib's reference BLAS at 4-7 GFLOP/s, which flatters wasm; for a fair reference: apt-get install -y libopenblas0-openmp",
  );
}
console.log(line(header));
console.log(line(widths.map((w) => '-'.repeat(w))));
for (const row of rows) console.log(line(row));

const [n, size, channels] = CEILING_CONV;
const [pn, pSize, pIn, pOut] = CEILING_POINTWISE;
const ceilingFlops: [string, keyof typeof ceiling, number][] = [
  [`conv 3x3 ${n}x${size}x${size}x${channels}`, 'conv', 2 * n * size * size * 9 * channels * channels],
  [`conv 1x1 ${pn}x${pSize}x${pSize}x${pIn}>${pOut}`, 'pointwise', 2 * pn * pSize * pSize * pIn * pOut],
  [`matMul ${CEILING_MATMUL}^3`, 'matMul', 2 * CEILING_MATMUL ** 3],
];
console.log('\nceiling (one kernel)');
for (const [label, key, flops] of ceilingFlops) {
  const { wasm: w, torch: t } = ceiling[key];
  const rate = (ms: number) => `${(flops / ms / 1e6).toFixed(0)} GFLOP/s`;
  const torchPart = t ? `torch ${fmt(t)} ms ${rate(t)}  wasm/torch ${(w / t).toFixed(2)}` : 'torch -';
  console.log(`${label.padEnd(26)}  wasm ${fmt(w)} ms ${rate(w)}  ${torchPart}`);
}
console.log(
  `wasm's 128-bit SIMD at most: ${peak.gflops.toFixed(0)} GFLOP/s on ${peak.threads} threads at once (${peak.fused ? 'fused' : 'unfused'} multiply-adds in registers; no kernel that reads memory runs faster)`,
);
console.log(
  JSON.stringify({
    bench: '@deepmask/model',
    machine: { cpus: cpus().length, model: cpus()[0]?.model },
    wasmThreads: wasmChoice.threads,
    xnnpackThreads,
    replicas: REPLICAS,
    torchThreads: torchAbout?.threads ?? null,
    torchBlas: torchAbout?.blas ?? null,
    reps,
    results: results.map((r) => ({
      trunk: r.name,
      inputSizePx: r.config.inputSizePx,
      patchBatch: r.patchBatch,
      trainBatch: r.trainBatch,
      denseSizePx: r.denseSizePx,
      ...r.timings,
    })),
    ceiling: {
      convShape: CEILING_CONV,
      pointwiseShape: CEILING_POINTWISE,
      matMulSide: CEILING_MATMUL,
      ...ceiling,
    },
    simd128Peak: peak,
  }),
);
// wasm threads keep the event loop alive
process.exit(0);
