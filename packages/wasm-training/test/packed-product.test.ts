import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { assembleMatrixProduct, GENERATED_PRODUCT_FILE } from '../scripts/gen-wasm.js';
import {
  BIAS_EPILOGUE,
  PRODUCT_WORK_BYTES,
  RELU_EPILOGUE,
  RELU6_EPILOGUE,
} from '../src/matrix-product-wasm.js';
import { enableRelaxedSimd } from '../src/node-product-helper.js';
import { packedProduct, rowBlocks } from '../src/packed-product.js';
import { type ProductExports, productModuleVariant, randomValues } from './backends.js';

/** A stored as [m, k] (or [k, m] when transposed), B as [k, n] (or [n, k]). */
interface ProductCase {
  m: number;
  k: number;
  n: number;
  transposeA: boolean;
  transposeB: boolean;
}

// Rows in part of a 4-row tile and past a 64-row block, columns in part of an 8-column panel, steps past a
// 512-step block (the second block adds to C), one step, every transpose; B's columns packed in pairs of
// panels, then a lone panel, then a tail (16, 40 = two pairs and a panel, 37 = two pairs and a tail).
const CASES: ProductCase[] = [
  [1, 1, 1],
  [4, 8, 8],
  [7, 3, 13],
  [66, 513, 9],
  [130, 40, 17],
  [5, 1100, 24],
  [6, 5, 16],
  [3, 20, 40],
  [9, 64, 37],
].flatMap(([m, k, n]) =>
  [false, true].flatMap((transposeA) =>
    [false, true].map((transposeB) => ({ m, k, n, transposeA, transposeB })),
  ),
);

/** op(A) op(B) in float64, summed in order. */
function reference(a: Float32Array, b: Float32Array, c: ProductCase): Float64Array {
  const out = new Float64Array(c.m * c.n);
  for (let i = 0; i < c.m; i++) {
    for (let j = 0; j < c.n; j++) {
      let sum = 0;
      for (let t = 0; t < c.k; t++) {
        const x = c.transposeA ? a[t * c.m + i] : a[i * c.k + t];
        const y = c.transposeB ? b[j * c.k + t] : b[t * c.n + j];
        sum += x * y;
      }
      out[i * c.n + j] = sum;
    }
  }
  return out;
}

/**
 * productRows' epilogue: the columns' bias (n values) added, then a ReLU where `kind` is RELU_EPILOGUE, a ReLU6
 * where it is RELU6_EPILOGUE.
 */
interface Epilogue {
  bias: Float32Array;
  kind: number;
}

/**
 * Runs productRows from `module` on its memory for a case (in two calls, as the helper thread splits rows),
 * with the epilogue if any; C's values.
 */
function productOf(
  exports: ProductExports,
  memory: WebAssembly.Memory,
  c: ProductCase,
  epilogue?: Epilogue,
): Float32Array {
  const { packPanels, productRows } = exports;
  const floats = new Float32Array(memory.buffer);
  const a = randomValues(c.m * c.k, c.m + c.k);
  const b = randomValues(c.k * c.n, c.n + 7);
  // Regions: A, B, packed B, C, work, bias; odd float offsets, as tensors in wasm's heap may have.
  const aAt = 3;
  const bAt = aAt + a.length + 5;
  const packedAt = bAt + b.length + 1;
  const cAt = packedAt + Math.ceil(c.n / 8) * 8 * c.k + 3;
  const workAt = cAt + c.m * c.n + 1;
  const biasAt = workAt + PRODUCT_WORK_BYTES / 4 + 1;
  floats.set(a, aAt);
  floats.set(b, bAt);
  floats.fill(Number.NaN, packedAt, biasAt);
  if (epilogue !== undefined) floats.set(epilogue.bias, biasAt);
  const bRowStride = c.transposeB ? 4 : 4 * c.n;
  const bColStride = c.transposeB ? 4 * c.k : 4;
  packPanels(4 * bAt, bRowStride, bColStride, 4 * packedAt, c.k, c.n);
  const strideI = c.transposeA ? 4 : 4 * c.k;
  const strideK = c.transposeA ? 4 * c.m : 4;
  const split = Math.min(c.m, 4);
  for (const [start, end] of [
    [0, split],
    [split, c.m],
  ]) {
    productRows(
      4 * aAt,
      strideI,
      strideK,
      4 * packedAt,
      4 * cAt,
      4 * c.n,
      start,
      end,
      c.n,
      c.k,
      4 * workAt,
      4 * biasAt,
      epilogue?.kind ?? 0,
    );
  }
  return floats.slice(cAt, cAt + c.m * c.n);
}

/** The largest error of productRows against float64 (relative to sqrt(k)). */
function largestError(exports: ProductExports, memory: WebAssembly.Memory, c: ProductCase): number {
  const product = productOf(exports, memory, c);
  const expected = reference(randomValues(c.m * c.k, c.m + c.k), randomValues(c.k * c.n, c.n + 7), c);
  let largest = 0;
  for (let i = 0; i < expected.length; i++) {
    largest = Math.max(largest, Math.abs(product[i] - expected[i]) / Math.sqrt(c.k));
  }
  return largest;
}

/**
 * C's values plus the bias, each rounded to float32, then tfjs' ReLU (`x < 0 ? 0 : x`) for RELU_EPILOGUE or its
 * ReLU6 (`min(max(x, 0), 6)`, NaN kept) for RELU6_EPILOGUE.
 */
function withEpilogue(product: Float32Array, { bias, kind }: Epilogue): Float32Array {
  return product.map((value, i) => {
    const biased = Math.fround(value + bias[i % bias.length]);
    if (kind === BIAS_EPILOGUE) return biased;
    // biome-ignore lint/complexity/useMathMinMax: tfjs' ReLU keeps -0, which Math.max(-0, 0) makes 0
    const relu = biased < 0 ? 0 : biased;
    return kind === RELU6_EPILOGUE ? Math.min(relu, 6) : relu;
  });
}

describe.each(['fused', 'separate'] as const)('the packed product module (%s multiply-adds)', (variant) => {
  const { supported, memory, instantiate } = productModuleVariant(variant, 200);
  it.runIf(supported).each(CASES)(
    'equals the float64 product: m $m, k $k, n $n, transposeA $transposeA, transposeB $transposeB',
    (c) => {
      // Per step of k, float32 rounding of values of size ~1: well under 1e-5 relative.
      expect(largestError(instantiate(), memory, c)).toBeLessThan(1e-5);
    },
  );
  it.runIf(supported).each(CASES)(
    'adds the bias, then a ReLU or a ReLU6, as an Add and a Relu or Relu6 after it would: m $m, k $k, n $n, transposeA $transposeA, transposeB $transposeB',
    (c) => {
      const exports = instantiate();
      const plain = productOf(exports, memory, c);
      // A NaN in the first and the last column (a full panel and, where n is not a multiple of 8, an edge).
      const bias = randomValues(c.n, 3 * c.n + 1).map((v) => 4 * v);
      bias[0] = Number.NaN;
      bias[c.n - 1] = Number.NaN;
      for (const kind of [BIAS_EPILOGUE, RELU_EPILOGUE, RELU6_EPILOGUE]) {
        const epilogue = { bias, kind };
        expect(productOf(exports, memory, c, epilogue)).toEqual(withEpilogue(plain, epilogue));
      }
    },
  );
});

describe('the packed product', () => {
  it('takes fused multiply-adds once relaxed SIMD is enabled (Node 20: a V8 flag set at run time)', () => {
    expect(enableRelaxedSimd()).toBe(true);
    const product = packedProduct(new WebAssembly.Memory({ initial: 1 }));
    expect(product?.fused).toBe(true);
    // No helper thread on a plain memory: the single-threaded build, where it beats XNNPACK's one thread.
    expect(product?.worthwhile).toBe(true);
  });

  it('shares rows in blocks of whole tiles, at least 32 rows, at most 32 blocks', () => {
    expect(rowBlocks(130, false)).toEqual([[0, 130]]);
    expect(rowBlocks(130, true)).toEqual([
      [0, 32],
      [32, 64],
      [64, 96],
      [96, 128],
      [128, 130],
    ]);
    // 6400 rows: 32 blocks of 200.
    const blocks = rowBlocks(6400, true);
    expect(blocks).toHaveLength(32);
    expect(blocks.every(([start, end], i) => start === 200 * i && end === start + 200)).toBe(true);
    // 1601 rows: 31 blocks of 52 (13 tiles, 52 x 32 >= 1601), the last of 41 rows.
    expect(rowBlocks(1601, true).at(-1)).toEqual([1560, 1601]);
    expect(rowBlocks(1601, true)).toHaveLength(31);
  });

  it('is the module that scripts/matrix-product-wat.ts generates now', async () => {
    expect(readFileSync(GENERATED_PRODUCT_FILE, 'utf8')).toBe(await assembleMatrixProduct());
  });
});
