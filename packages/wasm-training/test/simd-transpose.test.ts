import { readFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, describe, expect, it } from 'vitest';
import { assembleTranspose, GENERATED_FILE } from '../scripts/gen-wasm.js';
import { transposeMatrices } from '../src/matrix-transpose.js';
import { simdBlockTranspose } from '../src/simd-transpose.js';
import { randomValues, useBackend } from './backends.js';

afterAll(async () => {
  await useBackend('cpu');
});

// Sizes below, at and past multiples of 4 on both sides, so that blocks and the JS edges both take part.
const SHAPES: Array<[number, number]> = [
  [1, 1],
  [3, 5],
  [4, 4],
  [7, 13],
  [37, 64],
  [64, 130],
  [130, 5],
];

describe.each([false, true])('SIMD block transpose on a wasm memory (shared %s)', (shared) => {
  const memory = new WebAssembly.Memory({ initial: 4, maximum: 65536, shared });
  const blocks = simdBlockTranspose({ wasm: shared ? { wasmMemory: memory } : { asm: { memory } } });

  it.each(SHAPES)('transposes a batch of two [%i, %i] matrices like the JS loop', (rows, cols) => {
    expect(blocks).not.toBeNull();
    const size = 2 * rows * cols;
    // Unaligned on purpose: the second matrix of the batch starts at any float offset.
    const source = new Float32Array(memory.buffer, 4 * 8, size);
    const target = new Float32Array(memory.buffer, 4 * (16 + size), size);
    source.set(randomValues(size, rows * 100 + cols));
    const expected = new Float32Array(size);
    const matrices = { batch: 2, rows, cols, inner: 1 };
    transposeMatrices(source, matrices, expected);
    target.fill(Number.NaN);
    transposeMatrices(source, matrices, target, blocks);
    expect(Array.from(target)).toEqual(Array.from(expected));
  });

  it('declines views of other memory, which the JS loop then takes', () => {
    const source = Float32Array.from({ length: 12 }, (_, k) => k);
    const target = new Float32Array(12);
    expect(blocks?.(source, target, 4, 3)).toBe(false);
    transposeMatrices(source, { batch: 1, rows: 4, cols: 3, inner: 1 }, target, blocks);
    expect(Array.from(target)).toEqual([0, 3, 6, 9, 1, 4, 7, 10, 2, 5, 8, 11]);
  });
});

describe('SIMD block transpose', () => {
  it('is what src/transpose.wat assembles to (run gen:wasm after editing it)', async () => {
    expect(readFileSync(GENERATED_FILE, 'utf8')).toBe(await assembleTranspose());
  });

  it("runs on the wasm backend's own memory", async () => {
    await useBackend('wasm');
    expect(simdBlockTranspose(tf.backend())).not.toBeNull();
    expect(simdBlockTranspose({})).toBeNull();
  });
});
