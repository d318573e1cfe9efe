import '@tensorflow/tfjs';
import { initWasmBackend } from '@deepmask/wasm-training';
import * as tf from '@tensorflow/tfjs-core';
await initWasmBackend();
const shapes = [[4, 112, 112, 64, 128], [4, 56, 56, 128, 256], [4, 56, 56, 256, 256], [4, 28, 28, 256, 512], [4, 28, 28, 512, 512], [4, 14, 14, 512, 512], [4, 40, 40, 64, 64], [4, 20, 20, 128, 128], [4, 10, 10, 256, 256], [1, 28, 28, 512, 512], [1, 37, 47, 512, 512]];
for (const [n, h, w, c, o] of shapes) {
  const x = tf.randomUniform([n, h, w, c]) as tf.Tensor4D;
  const dy = tf.randomUniform([n, h, w, o]) as tf.Tensor4D;
  const filters = Array.from({ length: 4 }, () => tf.randomUniform([3, 3, c, o]) as tf.Tensor4D);
  const ops: Record<string, (i: number) => tf.Tensor> = {
    fwd: (i) => tf.conv2d(x, filters[i % 4], 1, 'same'),
    dx: (i) => tf.engine().runKernel('Conv2DBackpropInput', { dy, filter: filters[i % 4] }, { strides: [1, 1], pad: 'same', dataFormat: 'NHWC', inputShape: [n, h, w, c] }) as tf.Tensor,
    dw: () => tf.engine().runKernel('Conv2DBackpropFilter', { x, dy }, { strides: [1, 1], pad: 'same', dataFormat: 'NHWC', filterShape: [3, 3, c, o] }) as tf.Tensor,
  };
  const row: string[] = [];
  for (const [name, f] of Object.entries(ops)) {
    const best: Record<string, number> = {};
    for (let r = 0; r < 3; r++) for (const wino of [true, false]) {
      (globalThis as any).__noWino = !wino;
      if (r === 0) { f(0).dataSync(); continue; }
      const t = performance.now(); f(r).dataSync(); const ms = performance.now() - t;
      best[String(wino)] = Math.min(best[String(wino)] ?? Infinity, ms);
    }
    row.push(`${name} wino ${best.true.toFixed(0)} direct ${best.false.toFixed(0)} (${(best.true / best.false).toFixed(2)})`);
  }
  console.log(`${n}x${h}x${w}x${c}->${o}`, row.join(' | '));
  tf.dispose([x, dy, ...filters]);
}
process.exit(0);
