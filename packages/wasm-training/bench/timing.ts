import * as tf from '@tensorflow/tfjs-core';

/**
 * Median wall time (ms) of `run` after one warm-up; `run` must read its result back. A warm-up slower
 * than 1 s is the measurement itself (the cpu backend's filter gradients take tens of seconds).
 */
export function medianMs(run: () => void, repeats: number): number {
  const warmUpStart = performance.now();
  run();
  const warmUpMs = performance.now() - warmUpStart;
  if (warmUpMs > 1000) return warmUpMs;
  const times: number[] = [];
  for (let i = 0; i < repeats; i++) {
    const start = performance.now();
    run();
    times.push(performance.now() - start);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)];
}

/** Runs a kernel on the active backend and reads the result back, leaving no tensor behind. */
export function runKernelSync(
  name: string,
  inputs: Record<string, tf.Tensor>,
  attrs: Record<string, unknown>,
): void {
  const out = tf.engine().runKernel(name, inputs, attrs as never) as tf.Tensor;
  out.dataSync();
  out.dispose();
}
