import * as tf from '@tensorflow/tfjs-core';
import { it } from 'vitest';
import { onBothBackends, randomValues } from './backends.js';
it('debug', async () => {
  const [n, h, w, c] = [2, 4, 4, 3];
  const xv = randomValues(n * h * w * c, 3);
  const dyv = Array.from({ length: n * 2 * 2 * c }, (_, i) => i + 1);
  const expected = new Float32Array(xv.length);
  for (let b = 0; b < n; b++) for (let i = 0; i < 2; i++) for (let j = 0; j < 2; j++) for (let ch = 0; ch < c; ch++) {
    let best = -Infinity, at = -1;
    for (let a = 0; a < 2; a++) for (let d = 0; d < 2; d++) { const idx = ((b * h + 2 * i + a) * w + 2 * j + d) * c + ch; if (xv[idx] > best) { best = xv[idx]; at = idx; } }
    expected[at] += dyv[((b * 2 + i) * 2 + j) * c + ch];
  }
  const r = await onBothBackends(() => tf.grad((x: tf.Tensor) => tf.sum(tf.mul(tf.maxPool(x as tf.Tensor4D, 2, 2, 'valid'), tf.tensor4d(dyv, [n, 2, 2, c]))))(tf.tensor4d(xv, [n, h, w, c])));
  console.log('expected', Array.from(expected).join(','));
  console.log('cpu     ', Array.from(r.cpu[0]).join(','));
  console.log('wasm    ', Array.from(r.wasm[0]).join(','));
});
