import '@tensorflow/tfjs';
import { deepMaskLoss } from '@deepmask/loss';
import { initWasmBackend } from '@deepmask/wasm-training';
import { sgdMomentumStep } from '@deepmask/wasm-training/sgd-momentum';
import * as tf from '@tensorflow/tfjs-core';
import { createDeepMask, defaultConfig } from '../src/index.js';
await initWasmBackend();
const config = defaultConfig('tiny');
console.log(JSON.stringify(config));
const model = createDeepMask(config);
const n = 32, size = config.inputSizePx, o = config.maskSizePx;
const batch = tf.randomUniform([n, size, size, 3], 0, 255) as tf.Tensor4D;
const maskTargets = tf.sub(tf.mul(tf.randomUniform([n, o, o], 0, 2, 'int32'), 2), 1).toFloat() as tf.Tensor3D;
const labels = tf.sub(tf.mul(tf.randomUniform([n], 0, 2, 'int32'), 2), 1).toFloat() as tf.Tensor1D;
const lossFn = () => { const { maskLogits, scoreLogits } = model.predictPatches(batch, { training: true }); return deepMaskLoss({ maskLogits, scoreLogits, maskTargets, labels }).total as tf.Scalar; };
const vars = model.trainableVariables;
console.log('variables', vars.length, vars.map((v) => v.shape.join('x')).join(' '));
const vel = vars.map((v) => tf.variable(tf.zerosLike(v), false));
const step = () => { const { value, grads } = tf.variableGrads(lossFn, vars); for (const [i, v] of vars.entries()) sgdMomentumStep(v, vel[i], grads[v.name], { learningRate: 1e-3, momentum: 0.9, weightDecay: 5e-4 }); tf.dispose(grads); return value; };
for (let i = 0; i < 10; i++) { const l = step(); await l.data(); l.dispose(); }
let t = performance.now();
for (let i = 0; i < 50; i++) { const l = step(); await l.data(); l.dispose(); }
console.log('step ms', ((performance.now() - t) / 50).toFixed(2));
const prof = await tf.profile(async () => { const l = step(); await l.data(); l.dispose(); });
const count = new Map<string, [number, number]>();
for (const k of prof.kernels) { const e = count.get(k.name) ?? [0, 0]; e[0]++; e[1] += (await k.kernelTimeMs) as number; count.set(k.name, e); }
console.log('kernels', prof.kernels.length, 'sum ms', [...count.values()].reduce((a, b) => a + b[1], 0).toFixed(1));
console.log([...count].sort((a, b) => b[1][1] - a[1][1]).map(([k, [c, ms]]) => `${k} x${c} ${ms.toFixed(2)}`).join('\n'));
// forward only
t = performance.now();
for (let i = 0; i < 50; i++) { const l = tf.tidy(lossFn); await l.data(); l.dispose(); }
console.log('forward+loss ms', ((performance.now() - t) / 50).toFixed(2));


process.exit(0);
