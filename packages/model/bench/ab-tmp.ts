import '@tensorflow/tfjs';
import { deepMaskLoss } from '@deepmask/loss';
import { initWasmBackend } from '@deepmask/wasm-training';
import { sgdMomentumStep } from '@deepmask/wasm-training/sgd-momentum';
import * as tf from '@tensorflow/tfjs-core';
import { createDeepMask, defaultConfig, type TrunkName } from '../src/index.js';

const trunk = (process.argv[2] ?? 'resnet50') as TrunkName;
await initWasmBackend();
const config = defaultConfig(trunk);
const model = createDeepMask(config);
const n = trunk === 'tiny' ? 32 : 4,
  size = config.inputSizePx,
  o = config.maskSizePx;
const batch = tf.randomUniform([n, size, size, 3], 0, 255) as tf.Tensor4D;
const maskTargets = tf.sub(tf.mul(tf.randomUniform([n, o, o], 0, 2, 'int32'), 2), 1).toFloat() as tf.Tensor3D;
const labels = tf.sub(tf.mul(tf.randomUniform([n], 0, 2, 'int32'), 2), 1).toFloat() as tf.Tensor1D;
const variables = model.trainableVariables;
const velocities = variables.map((v) => tf.variable(tf.zerosLike(v), false));
const step = async () => {
  const { value, grads } = tf.variableGrads(() => {
    const { maskLogits, scoreLogits } = model.predictPatches(batch, { training: true });
    return deepMaskLoss({ maskLogits, scoreLogits, maskTargets, labels }).total;
  }, variables);
  for (const [i, v] of variables.entries())
    sgdMomentumStep(v, velocities[i], grads[v.name], { learningRate: 1e-3, momentum: 0.9, weightDecay: 0 });
  tf.dispose(grads);
  await value.data();
  value.dispose();
};
const fwd = async () => { const r = model.predictPatches(batch); await r.maskLogits.data(); tf.dispose(Object.values(r)); };
for (let i = 0; i < 3; i++) { await step(); await fwd(); }
const configs = (process.env.CONFIGS ?? 'SMALL=0;SMALL=2000000').split(';');
const times: Record<string, number[]> = {};
for (let round = 0; round < 12; round++) {
  for (const cfg of configs) {
    for (const kv of cfg.split(',')) {
      const [k, v] = kv.split('=');
      process.env[k] = v;
    }
    await step();
    const t = performance.now();
    for (let i = 0; i < 4; i++) await (process.env.FWD ? fwd() : step());
    (times[cfg] ??= []).push((performance.now() - t) / 4);
  }
}
for (const [cfg, ts] of Object.entries(times)) {
  ts.sort((a, b) => a - b);
  console.log(cfg.padEnd(30), 'median', ts[6].toFixed(1), 'best', ts[0].toFixed(1));
}
process.exit(0);
