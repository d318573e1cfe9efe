import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-layers';
import { initWasmBackend } from '../src/index.js';
import { medianMs } from './timing.js';

// One process per thread count: the wasm module is loaded once per process. Prints one JSON line.
const threads = Number(process.argv[2]);
const repeats = Number(process.argv[3] ?? 3);
const choice = await initWasmBackend({ threads });

// A VGG-like conv stack at 112 px, batch 4: forward, loss, all weight gradients, an SGD update (so that
// each step meets new filters, as in training: a filter seen before would take the inference path).
const channels = [3, 32, 64, 64, 128, 128];
const filters = channels
  .slice(1)
  .map((out, i) => tf.variable(tf.randomNormal([3, 3, channels[i], out], 0, 0.05)));
const images = tf.randomNormal([4, 112, 112, 3]);
const step = () => {
  const { value, grads } = tf.variableGrads(() => {
    let x = images as tf.Tensor4D;
    filters.forEach((filter, i) => {
      x = tf.relu(tf.conv2d(x, filter as tf.Tensor4D, 1, 'same'));
      if (i % 2 === 0) x = tf.maxPool(x, 2, 2, 'valid');
    });
    return tf.mean(tf.square(x)) as tf.Scalar;
  });
  value.dataSync();
  for (const filter of filters) {
    const updated = tf.tidy(() => tf.sub(filter, tf.mul(grads[filter.name], 1e-3)));
    filter.assign(updated);
    updated.dispose();
  }
  for (const filter of filters) filter.dataSync();
  tf.dispose([value, ...Object.values(grads)]);
};
const stepMs = medianMs(step, repeats);
console.log(JSON.stringify({ threads: choice.threads, build: choice.build, stepMs }));
process.exit(0);
