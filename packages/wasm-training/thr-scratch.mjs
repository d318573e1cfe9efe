import fs from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import * as wasm from '@tensorflow/tfjs-backend-wasm';
import * as tf from '@tensorflow/tfjs-core';

const require = createRequire(import.meta.url);
const wasmMain = require.resolve('@tensorflow/tfjs-backend-wasm');
const outDir = path.join(path.dirname(wasmMain), '..', 'wasm-out');
const { wasmWorkerContents } = require(path.join(outDir, 'tfjs-backend-wasm-threaded-simd.worker.js'));
const mainScript = path.join(outDir, 'tfjs-backend-wasm-threaded-simd.js');
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tfjs-wasm-'));
const target =
  'else{var objectUrl=URL.createObjectURL(e.data.urlOrBlob);importScripts(objectUrl);URL.revokeObjectURL(objectUrl)}';
if (!wasmWorkerContents.includes(target)) throw new Error('no target');
const workerPath = path.join(dir, 'worker.cjs');
fs.writeFileSync(
  workerPath,
  wasmWorkerContents
    .replace(/\n/g, '\\n')
    .replace(target, `else{importScripts(${JSON.stringify(mainScript)})}`),
);
const threads = Number(process.argv[2] ?? 2);
if (process.argv[3] === 'mt') tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', true);
wasm.setThreadsCount(threads);
const orig = URL.createObjectURL;
URL.createObjectURL = (blob) => (blob?.type === 'application/javascript' ? workerPath : orig(blob));
const cpus = os.cpus;
if (process.argv[3] === 'mt') os.cpus = () => [...cpus(), ...cpus()];
const t0 = Date.now();
try {
  const ok = await tf.setBackend('wasm');
  await tf.ready();
  os.cpus = cpus;
  console.log('ok', ok, 'init ms', Date.now() - t0, 'threads', wasm.getThreadsCount());
  const x = tf.randomNormal([8, 56, 56, 128]);
  const w = tf.randomNormal([3, 3, 128, 128]);
  for (let i = 0; i < 2; i++) tf.conv2d(x, w, 1, 'same').dataSync();
  const c0 = process.cpuUsage();
  const t1 = Date.now();
  for (let i = 0; i < 5; i++) tf.conv2d(x, w, 1, 'same').dataSync();
  const wall = Date.now() - t1;
  const cu = process.cpuUsage(c0);
  console.log('conv ms', wall / 5, 'cpu/wall', ((cu.user + cu.system) / 1000 / wall).toFixed(2));
} catch (e) {
  console.log('FAIL', e?.message ?? e);
}
process.exit(0);
