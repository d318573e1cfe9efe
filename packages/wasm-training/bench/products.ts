import * as tf from '@tensorflow/tfjs-core';
import { initWasmBackend } from '../src/index.js';
import { adoptedWasmKernel } from '../src/wasm-originals.js';

// Our packed product (through BatchMatMul, as every kernel here reaches it) against wasm's own XNNPACK
// product, on the threaded build with 2 threads, calls alternating. Each is given B as a weight of a
// training step (a new tensor each call, packed at each call) and as one kept at inference (the same
// tensor: packed once by either). Prints one JSON line.
const repeats = Number(process.argv[2] ?? 5);
const choice = await initWasmBackend({ threads: 2 });

/** [m, k, n]: ResNet-50's 1x1 layers at 160 px, batch 4 (pixels x in -> out), and a square product. */
const SHAPES: Array<[number, number, number]> = [
  [6400, 64, 256],
  [6400, 256, 64],
  [1600, 512, 128],
  [1600, 128, 512],
  [400, 1024, 256],
  [400, 256, 1024],
  [1024, 1024, 1024],
];

const xnnpack = adoptedWasmKernel('BatchMatMul');
const backend = tf.backend();
const ours = (a: tf.Tensor, b: tf.Tensor) => {
  tf.matMul(a, b).dataSync();
};
const theirs = (a: tf.Tensor, b: tf.Tensor) => {
  const out = xnnpack.kernelFunc({
    inputs: { a: tf.reshape(a, [1, ...a.shape]), b: tf.reshape(b, [1, ...b.shape]) },
    attrs: { transposeA: false, transposeB: false },
    backend,
  }) as tf.TensorInfo;
  backend.readSync(out.dataId);
  backend.disposeData(out.dataId);
};

const results = SHAPES.map(([m, k, n]) => {
  const a = tf.randomNormal([m, k]);
  const kept = tf.randomNormal([k, n]);
  // A new tensor with B's values (a clone would share B's data, and so its packing).
  const fresh = () => tf.add(kept, tf.scalar(0));
  const runs = {
    oursFresh: () => tf.tidy(() => ours(a, fresh())),
    oursKept: () => ours(a, kept),
    xnnpackFresh: () => tf.tidy(() => theirs(a, fresh())),
    xnnpackKept: () => tf.tidy(() => theirs(a, kept)),
  };
  const times: Record<keyof typeof runs, number[]> = {
    oursFresh: [],
    oursKept: [],
    xnnpackFresh: [],
    xnnpackKept: [],
  };
  for (const run of Object.values(runs)) run();
  for (let r = 0; r < repeats; r++) {
    for (const [name, run] of Object.entries(runs) as Array<[keyof typeof runs, () => void]>) {
      const start = performance.now();
      run();
      times[name].push(performance.now() - start);
    }
  }
  const median = (values: number[]) => values.sort((x, y) => x - y)[Math.floor(values.length / 2)];
  tf.dispose([a, kept]);
  return {
    m,
    k,
    n,
    oursFreshMs: median(times.oursFresh),
    oursKeptMs: median(times.oursKept),
    xnnpackFreshMs: median(times.xnnpackFresh),
    xnnpackKeptMs: median(times.xnnpackKept),
  };
});
console.log(JSON.stringify({ threads: choice.threads, build: choice.build, results }));
process.exit(0);
