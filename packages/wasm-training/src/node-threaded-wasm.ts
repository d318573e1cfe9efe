import { createHash } from 'node:crypto';
import { existsSync, renameSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { setThreadsCount, setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import * as tf from '@tensorflow/tfjs-core';

const require = createRequire(import.meta.url);

// The branch of emscripten's pthread worker that loads the main script from a Blob, which Node's
// worker_threads cannot do; it is pointed at the main script's file instead.
const WORKER_BLOB_BRANCH =
  'else{var objectUrl=URL.createObjectURL(e.data.urlOrBlob);importScripts(objectUrl);URL.revokeObjectURL(objectUrl)}';

export function cpuCount(): number {
  return os.availableParallelism();
}

/** Runs `initialise` (which must load the wasm backend) with the single-threaded SIMD build. */
export async function withNodeSimdWasm(initialise: () => Promise<void>): Promise<void> {
  pointAtWasmFiles();
  tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
  await initialise();
}

/**
 * Runs `initialise` (which must load the wasm backend) so that the threaded SIMD build works in Node,
 * where tfjs-backend-wasm 4.22 disables it (tensorflow/tfjs#3830) for three reasons, each undone here
 * for the duration of `initialise` only:
 * - the WASM_HAS_MULTITHREAD_SUPPORT flag is false under Node: set to true;
 * - emscripten's pthread workers are created from `blob:` URLs, which worker_threads rejects: the
 *   worker script is written once to the temp dir and `URL.createObjectURL` returns that file for it;
 * - the backend sizes its pool as `os.cpus().length / 2` (counting hyperthreads): `os.cpus()` reports
 *   `2 poolThreads` entries so that XNNPACK's pool gets exactly `poolThreads` (1: the calling thread only;
 *   the build's memory is shared all the same).
 * Returns a note when the threaded build could not be prepared (then the SIMD build is used).
 */
export async function withNodeThreadedWasm(
  poolThreads: number,
  initialise: () => Promise<void>,
): Promise<string | undefined> {
  const distDir = pointAtWasmFiles();
  const workerPath = writeWorkerScript(path.join(distDir, '..', 'wasm-out'));
  if (workerPath === undefined) {
    await withNodeSimdWasm(initialise);
    return 'the threaded worker script of tfjs-backend-wasm has an unexpected form; using one thread';
  }
  const { cpus } = os;
  const createObjectURL = URL.createObjectURL;
  const cpuList = cpus();
  os.cpus = () => Array.from({ length: 2 * poolThreads }, (_, i) => cpuList[i % cpuList.length]);
  URL.createObjectURL = (blob) =>
    blob instanceof Blob && blob.type === 'application/javascript' ? workerPath : createObjectURL(blob);
  tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', true);
  setThreadsCount(poolThreads);
  try {
    await initialise();
  } finally {
    os.cpus = cpus;
    URL.createObjectURL = createObjectURL;
  }
  return undefined;
}

/** Points tfjs-backend-wasm at its own .wasm files; returns their package's dist folder. */
function pointAtWasmFiles(): string {
  const distDir = path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm'));
  setWasmPaths(`${distDir}${path.sep}`);
  return distDir;
}

function writeWorkerScript(wasmOutDir: string): string | undefined {
  const { wasmWorkerContents } = require(
    path.join(wasmOutDir, 'tfjs-backend-wasm-threaded-simd.worker.js'),
  ) as {
    wasmWorkerContents: string;
  };
  if (!wasmWorkerContents.includes(WORKER_BLOB_BRANCH)) return undefined;
  const mainScript = path.join(wasmOutDir, 'tfjs-backend-wasm-threaded-simd.js');
  // Escaped as tfjs-backend-wasm escapes it for its Blob: the contents hold '\n' inside string literals.
  const script = wasmWorkerContents
    .replace(/\n/g, '\\n')
    .replace(WORKER_BLOB_BRANCH, `else{importScripts(${JSON.stringify(mainScript)})}`);
  const hash = createHash('sha256').update(script).digest('hex').slice(0, 16);
  const file = path.join(os.tmpdir(), `deepmask-tfjs-wasm-worker-${hash}.cjs`);
  if (!existsSync(file)) {
    const partial = `${file}.${process.pid}.tmp`;
    writeFileSync(partial, script);
    renameSync(partial, file);
  }
  return file;
}
