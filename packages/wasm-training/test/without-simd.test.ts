import { afterAll, describe, expect, it, vi } from 'vitest';
import { maxAbsDifference, useBackend } from './backends.js';
import {
  CONV_CASES,
  convGradients,
  DEPTHWISE_CASES,
  depthwiseGradients,
  TOLERANCE,
} from './gradient-cases.js';

// Where our SIMD module cannot run (tfjs-backend-wasm's build without SIMD), the kernels take their
// other paths: wasm's depthwise convolution for the depthwise filter gradient, JS loops for transposes.
vi.mock('../src/simd-kernels.js', () => ({ simdKernels: () => null }));

afterAll(async () => {
  await useBackend('cpu');
});

describe('without the SIMD module', () => {
  it.each(DEPTHWISE_CASES)('depthwise gradients of $name equal cpu within 1e-4', async (c) => {
    const { cpu, wasm } = await depthwiseGradients(c);
    expect(maxAbsDifference(wasm[0], cpu[0])).toBeLessThan(TOLERANCE);
    expect(maxAbsDifference(wasm[1], cpu[1])).toBeLessThan(TOLERANCE);
  });

  it.each(CONV_CASES)('conv gradients of $name (transposes in JS) equal cpu within 1e-4', async (c) => {
    const { cpu, wasm } = await convGradients(c);
    expect(maxAbsDifference(wasm[0], cpu[0])).toBeLessThan(TOLERANCE);
    expect(maxAbsDifference(wasm[1], cpu[1])).toBeLessThan(TOLERANCE);
  });
});
