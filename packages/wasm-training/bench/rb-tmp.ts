import * as tf from '@tensorflow/tfjs-core';
import { initWasmBackend } from '../src/index.js';
await initWasmBackend({ threads: 2 });
const x = tf.randomUniform([4, 56, 56, 256]) as tf.Tensor4D;
const f = tf.randomUniform([3, 3, 256, 256]) as tf.Tensor4D;
for (let round = 0; round < 3; round++) for (const mode of ['none', 'data', 'dataSync']) {
  const reps = 10; const t = performance.now();
  for (let i = 0; i < reps; i++) { const y = tf.conv2d(x, f, 1, 'same'); if (mode === 'data') await y.data(); else if (mode === 'dataSync') y.dataSync(); y.dispose(); }
  console.log(mode, ((performance.now() - t) / reps).toFixed(1), 'ms');
}
process.exit(0);
