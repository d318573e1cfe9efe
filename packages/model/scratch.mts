import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs';
import { createDeepMask, defaultConfig } from './src/index.ts';

await tf.setBackend('cpu');
const model = createDeepMask(defaultConfig('tiny', { trunkWidths: [16, 24, 32, 32], dropoutRate: 0.1 }), {
  seed: 2,
});
const x = tf.randomUniform([8, 64, 64, 3], 0, 255) as tf.Tensor4D;
for (let i = 0; i < 3; i++) {
  let t = performance.now();
  tf.tidy(() => model.predictPatches(x, { training: true }));
  console.log('fwd', performance.now() - t);
  t = performance.now();
  const prof = await tf.profile(() => {
    const { grads, value } = tf.variableGrads(
      () => tf.sum(model.predictPatches(x, { training: true }).maskLogits) as tf.Scalar,
      model.trainableVariables,
    );
    tf.dispose([grads, value]);
  });
  console.log('grad', performance.now() - t);
  if (i === 2) {
    for (const k of prof.kernels)
      if (k.name === 'Conv2DBackpropFilter') console.log(k.kernelTimeMs, k.inputShapes, k.outputShapes);
    const byName: Record<string, number> = {};
    for (const k of prof.kernels) byName[k.name] = (byName[k.name] ?? 0) + (k.kernelTimeMs as number);
    console.log(
      Object.entries(byName)
        .sort((a, b) => b[1] - a[1])
        .slice(0, 8),
    );
  }
}
