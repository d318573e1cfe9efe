import '@tensorflow/tfjs-backend-wasm';
import '@tensorflow/tfjs';
import * as tf from '@tensorflow/tfjs-core';
import { createDeepMask, defaultConfig } from '@deepmask/model';
import { deepMaskLoss } from '@deepmask/loss';
import { registerWasmTrainingKernels } from '@deepmask/wasm-training';
registerWasmTrainingKernels();
await tf.setBackend('wasm'); await tf.ready();
const n = Number(process.argv[2]);
const a = tf.tensor4d(new Float32Array(n*224*224*3), [n,224,224,3]);
const model = createDeepMask(defaultConfig('mobilenet-v1'), { seed: 1 });
const opt = tf.train.momentum(1e-3, 0.9);
for (let i = 0; i < 2; i++) {
const t = performance.now();
const cost = opt.minimize(() => { const o = model.predictPatches(a, { training: true }); return deepMaskLoss({ ...o, maskTargets: tf.ones([n,56,56]), labels: tf.ones([n]) }, { heads: 'joint' }).total; }, true, model.trainableVariables);
console.log('step', n, await cost!.data(), performance.now() - t, tf.memory().numBytes / 2**20);
cost!.dispose();
}
