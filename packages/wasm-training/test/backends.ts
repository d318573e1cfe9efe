import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-core/dist/register_all_gradients';
import { expect } from 'vitest';
import { initWasmBackend } from '../src/index.js';
import { MATRIX_PRODUCT_WASM } from '../src/matrix-product-wasm.js';
import { enableRelaxedSimd } from '../src/node-product-helper.js';
import { adoptedWasmKernel, adoptWasmKernel } from '../src/wasm-originals.js';

/** Runs `compute` on 'cpu' and on 'wasm' (with the training kernels) and returns both results' values. */
export async function onBothBackends(
  compute: () => tf.Tensor | tf.Tensor[],
): Promise<{ cpu: Float32Array[]; wasm: Float32Array[] }> {
  const results: Record<string, Float32Array[]> = {};
  for (const backend of ['cpu', 'wasm']) {
    await useBackend(backend);
    const out = tf.tidy(compute);
    const list = Array.isArray(out) ? out : [out];
    results[backend] = await Promise.all(list.map(async (t) => (await t.data()) as Float32Array));
    tf.dispose(list);
  }
  return { cpu: results.cpu, wasm: results.wasm };
}

export async function useBackend(backend: string): Promise<void> {
  if (backend === 'wasm') await initWasmBackend({ threads: 1 });
  if (!(await tf.setBackend(backend))) throw new Error(`backend ${backend} failed to initialise`);
  await tf.ready();
}

/** Deterministic uniform values in [-1, 1) (a small LCG: tests must not depend on tf's random state). */
export function randomValues(size: number, seed: number): Float32Array {
  const values = new Float32Array(size);
  let state = seed >>> 0 || 1;
  for (let i = 0; i < size; i++) {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    values[i] = state / 2 ** 31 - 1;
  }
  return values;
}

export function maxAbsDifference(a: Float32Array, b: Float32Array): number {
  if (a.length !== b.length) throw new Error(`length ${a.length} != ${b.length}`);
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]));
  return worst;
}

/** The operands of a `[rows, inner] x [inner, cols]` product, once per transpose combination. */
export function productOperands(
  rows: number,
  inner: number,
  cols: number,
): Array<{ a: number[]; b: number[]; transposeA: boolean; transposeB: boolean }> {
  return [false, true].flatMap((transposeA) =>
    [false, true].map((transposeB) => ({
      a: transposeA ? [inner, rows] : [rows, inner],
      b: transposeB ? [cols, inner] : [inner, cols],
      transposeA,
      transposeB,
    })),
  );
}

/**
 * Runs `run` twice (first calls may create lasting state: a weight's packing is kept from its second
 * product), then `times` more, expecting the tensors, their bytes and the backend's data not to grow.
 */
export function expectNoGrowth(run: () => void, times = 5): void {
  run();
  run();
  const before = tf.memory();
  const dataIdsBefore = tf.engine().backend.numDataIds();
  for (let i = 0; i < times; i++) run();
  expect(tf.memory().numTensors).toBe(before.numTensors);
  expect(tf.memory().numBytes).toBe(before.numBytes);
  expect(tf.engine().backend.numDataIds()).toBe(dataIdsBefore);
}

/**
 * Runs `run` while wasm's own kernels `kernelNames` (those the replacements delegate to) record every call
 * as `describe` words it, then puts them back; the records and `run`'s result.
 */
export function recordWasmKernelCalls<T>(
  kernelNames: string[],
  describe: (kernelName: string, inputs: Record<string, tf.TensorInfo>, attrs: tf.NamedAttrMap) => string,
  run: () => T,
): { calls: string[]; result: T } {
  const calls: string[] = [];
  const originals = kernelNames.map(adoptedWasmKernel);
  for (const original of originals) {
    adoptWasmKernel({
      ...original,
      kernelFunc: (args) => {
        calls.push(
          describe(original.kernelName, args.inputs as Record<string, tf.TensorInfo>, args.attrs ?? {}),
        );
        return original.kernelFunc(args);
      },
    });
  }
  try {
    return { calls, result: run() };
  } finally {
    for (const original of originals) adoptWasmKernel(original);
  }
}

/** A product module's exports, by name. */
export type ProductExports = Record<string, (...args: number[]) => void>;

/**
 * The product module's plain-memory build with fused (relaxed SIMD) or separate multiply-adds, on a memory
 * of `pages`: `supported` is false where this Node cannot run the variant; `instantiate()` gives a fresh
 * instance's exports.
 */
export function productModuleVariant(variant: 'fused' | 'separate', pages: number) {
  const supported = variant === 'separate' || enableRelaxedSimd();
  const memory = new WebAssembly.Memory({ initial: pages });
  const instantiate = () => {
    const module = new WebAssembly.Module(Buffer.from(MATRIX_PRODUCT_WASM.plain[variant], 'base64'));
    return new WebAssembly.Instance(module, { env: { memory } }).exports as ProductExports;
  };
  return { supported, memory, instantiate };
}
