import * as tf from '@tensorflow/tfjs-core';
import { initWasmBackend } from '../src/index.js';
await initWasmBackend({ threads: Number(process.argv[2] ?? 2) });
const SHAPES: Array<[number, number, number]> = [[6400, 64, 256],[6400, 256, 64],[1600, 512, 128],[1600, 128, 512],[400, 1024, 256],[400, 256, 1024],[1024, 1024, 1024]];
for (const [m, k, n] of SHAPES) {
  const a = tf.randomNormal([m, k]); const b = tf.randomNormal([k, n]);
  const reps = Math.max(3, Math.round(2e9 / (m * k * n)));
  for (const mode of ['kept', 'kept+read', 'kept', 'kept+read']) {
    tf.matMul(a, b).dispose();
    const t = performance.now();
    for (let r = 0; r < reps; r++) { const c = tf.matMul(a, b); if (mode === 'kept+read') c.dataSync(); c.dispose(); }
    const ms = (performance.now() - t) / reps;
    console.log(m, k, n, mode, ms.toFixed(2), 'ms', (m * k * n / ms / 1e6).toFixed(1), 'G');
  }
  tf.dispose([a, b]);
}
process.exit(0);
