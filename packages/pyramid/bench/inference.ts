/**
 * Full-scene inference per 640x480 COCO image, per trunk, on tfjs wasm, split by stage, side by side
 * with the same pipeline in PyTorch on the CPU (bench/torch_pyramid.py, 2 threads) in this one run.
 * `proposeMasks` times the dense pass (trunk, score branch, mask features) as a whole; the trunk's share is
 * timed in separate passes over the same scale batches (resizing and padding included; the faster of one
 * before and one after), and the heads get the rest. The mask embedding of the top N (embed), decoding and pasting are timed by `proposeMasks`.
 *
 * usage: pnpm bench [--trunks tiny,mobilenet-v1,resnet50,vgg-a] [--images tiny=2,...] [--topN 1000]
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createDeepMask, defaultConfig, type TrunkName } from '@deepmask/model';
import { initWasmBackend } from '@deepmask/wasm-training';
import * as tf from '@tensorflow/tfjs-core';
import sharp from 'sharp';
import { DEFAULT_SCALE_BATCHING, planScaleBatches } from '../src/batching.js';
import { batchInputSize, scaleGeometry } from '../src/geometry.js';
import { type DenseMaskModel, proposeMasks } from '../src/index.js';
import { scaleBatchInput } from '../src/scale-input.js';
import { scaleList } from '../src/scales.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const shared = process.env.DEEPMASK_SHARED ?? path.resolve(here, '../../../../shared');
const valDir = path.join(shared, 'data/coco-mini/val2017');
const STAGES = ['trunkMs', 'headsMs', 'rankMs', 'embedMs', 'decodeMs', 'pasteMs', 'totalMs'] as const;

function option(name: string, fallback: string): string {
  const k = process.argv.indexOf(`--${name}`);
  return k >= 0 ? process.argv[k + 1] : fallback;
}

const trunks = option('trunks', 'tiny,mobilenet-v1,resnet50,vgg-a').split(',') as TrunkName[];
const imagesPerTrunk = new Map(
  option('images', 'tiny=2,mobilenet-v1=1,resnet50=1,vgg-a=1')
    .split(',')
    .map((kv) => kv.split('=') as [string, string]),
);
const topN = Number(option('topN', '1000'));

interface Image {
  name: string;
  pixels: Uint8Array;
  height: number;
  width: number;
}

async function valImages(count: number): Promise<Image[]> {
  const json = JSON.parse(
    readFileSync(path.join(shared, 'data/coco-mini/annotations/instances_val2017.json'), 'utf8'),
  );
  const names: string[] = json.images
    .filter((im: { width: number; height: number }) => im.width === 640 && im.height === 480)
    .map((im: { file_name: string }) => im.file_name)
    .sort()
    .slice(0, count);
  return Promise.all(
    names.map(async (name) => {
      const { data, info } = await sharp(path.join(valDir, name))
        .removeAlpha()
        .raw()
        .toBuffer({ resolveWithObject: true });
      return { name, pixels: new Uint8Array(data), height: info.height, width: info.width };
    }),
  );
}

type Row = Record<(typeof STAGES)[number], number> & { images: number; proposals: number };
/** torch's row also names the BLAS that its matrix products go to (torch_pyramid.py's blas_library). */
type TorchRow = Row & { blas: string };

/** Milliseconds of resizing, padding and the trunk alone over the scale batches that proposeMasks runs. */
function trunkMs(model: DenseMaskModel & { trunkFeatures(x: tf.Tensor4D): tf.Tensor4D }, image: tf.Tensor3D) {
  const [height, width] = image.shape;
  const geometries = scaleList().map((s) => scaleGeometry(height, width, s, model.config.inputSizePx));
  const groups = planScaleBatches(
    geometries.map((g) => batchInputSize([g])),
    DEFAULT_SCALE_BATCHING,
  );
  const start = performance.now();
  for (const group of groups) {
    tf.tidy(() => {
      const input = scaleBatchInput(
        image,
        group.map((k) => geometries[k]),
        model.config.pixelMean,
      );
      // a reduction waits for the trunk without copying its output (tf.slice on wasm copies its input)
      tf.max(model.trunkFeatures(input)).dataSync();
    });
  }
  return performance.now() - start;
}

async function tfjsRow(trunk: TrunkName, images: Image[]): Promise<Row> {
  const model = createDeepMask(defaultConfig(trunk), { seed: 1 });
  const tensors = images.map((im) => tf.tensor3d(im.pixels, [im.height, im.width, 3], 'int32'));
  // warm-up on a full-size image: kernels, weight packing and the wasm memory's growth (its first use of
  // fresh pages costs seconds here) belong to the first image of a run, not to each image
  await proposeMasks(model, tensors[0], { topN });
  const sums: Row = {
    trunkMs: 0,
    headsMs: 0,
    rankMs: 0,
    embedMs: 0,
    decodeMs: 0,
    pasteMs: 0,
    totalMs: 0,
    images: images.length,
    proposals: 0,
  };
  for (const image of tensors) {
    const before = trunkMs(model, image);
    const { proposals, timings } = await proposeMasks(model, image, { topN });
    // the less disturbed of two trunk passes (this machine's timings vary by 10-20% from run to run)
    const trunk = Math.min(before, trunkMs(model, image));
    const stages = { ...timings, trunkMs: trunk, headsMs: timings.denseMs - trunk };
    for (const stage of STAGES) sums[stage] += stages[stage] / images.length;
    sums.proposals += proposals.length / images.length;
  }
  for (const t of tensors) t.dispose();
  model.dispose();
  return sums;
}

function torchRow(trunk: TrunkName, images: Image[], dir: string): TorchRow | string {
  const probe = spawnSync('/usr/bin/python3', ['-c', 'import torch'], { encoding: 'utf8' });
  if (probe.status !== 0) return 'torch not installed';
  const specs = images.map((im, k) => {
    const file = path.join(dir, `${k}.rgb`);
    writeFileSync(file, im.pixels);
    return `${file}:${im.height}:${im.width}`;
  });
  const run = spawnSync(
    '/usr/bin/python3',
    [path.join(here, 'torch_pyramid.py'), trunk, String(topN), ...specs],
    {
      encoding: 'utf8',
      maxBuffer: 1 << 24,
    },
  );
  if (run.status !== 0) return `torch failed: ${run.stderr.trim().split('\n').pop()}`;
  return JSON.parse(run.stdout.trim().split('\n').pop()!);
}

const fmt = (ms: number) => (ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${ms.toFixed(0)} ms`);

async function main() {
  const wasm = await initWasmBackend({ threads: Number(option('threads', '2')) });
  const dir = mkdtempSync(path.join(os.tmpdir(), 'pyramid-bench-'));
  const results: Record<string, { wasm: Row; torch: TorchRow | string; ratio?: number }> = {};
  const maxImages = Math.max(...trunks.map((t) => Number(imagesPerTrunk.get(t) ?? 1)));
  const all = await valImages(maxImages);
  try {
    for (const trunk of trunks) {
      const images = all.slice(0, Number(imagesPerTrunk.get(trunk) ?? 1));
      const wasm = await tfjsRow(trunk, images);
      const torch = torchRow(trunk, images, dir);
      results[trunk] = {
        wasm,
        torch,
        ratio: typeof torch === 'string' ? undefined : wasm.totalMs / torch.totalMs,
      };
      process.stderr.write(`${trunk}: wasm ${fmt(wasm.totalMs)}\n`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const cpus = os.cpus();
  const torchBlas = Object.values(results)
    .map((r) => r.torch)
    .find((t): t is TorchRow => typeof t !== 'string')?.blas;
  console.log(`full-scene inference per 640x480 coco-mini val image, 7 scales 2^-2..2^1, top ${topN} masks`);
  console.log(
    `machine: ${cpus[0]?.model ?? 'unknown'} x${cpus.length}; tfjs ${tf.version_core} wasm ${wasm.build}, ` +
      `${wasm.threads} threads${wasm.note ? ` (${wasm.note})` : ''}; torch 2 threads, BLAS ${torchBlas ?? '-'}`,
  );
  const columns = (r: Row, width: number) =>
    [r.trunkMs, r.headsMs, r.rankMs, r.embedMs, r.decodeMs + r.pasteMs, r.totalMs]
      .map((v) => fmt(v).padStart(width))
      .join('');
  console.log(
    'trunk         imgs | wasm:  trunk   heads    rank   embed   masks   total | torch:  trunk   heads    rank   embed   masks   total | wasm/torch',
  );
  for (const [trunk, r] of Object.entries(results)) {
    const torchCols = typeof r.torch === 'string' ? r.torch.padEnd(48) : columns(r.torch, 8);
    console.log(
      `${trunk.padEnd(13)} ${String(r.wasm.images).padStart(4)} |${columns(r.wasm, 8)} | ${torchCols} | ${r.ratio ? r.ratio.toFixed(2) : '-'}`,
    );
  }
  const machine = `${cpus[0]?.model} x${cpus.length}`;
  console.log(
    JSON.stringify({ bench: 'pyramid-inference', topN, machine, wasmThreads: wasm.threads, results }),
  );
}

await main();
// the threaded wasm backend's worker threads would keep Node alive
process.exit(0);
