import { it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { createDeepMask, defaultConfig } from '@deepmask/model';
import { createSampler, batchToTensors } from '@deepmask/sampling';
import { loadCocoData } from '../src/coco-data.js';
import { selectBackend } from '../src/backend.js';

it('speed', async () => {
  for (const backend of ['wasm', 'cpu'] as const) {
    await selectBackend(backend);
    const train = await loadCocoData('/tmp/demo-look/train', '/tmp/demo-look/annotations/instances_train.json');
    const model = createDeepMask(defaultConfig('tiny'), { seed: 1 });
    const sampler = createSampler({ dataset: train.dataset, images: train.images, decoder: train.decoder, config: { inputSizePx: 64, maskSizePx: 16, batchSize: 32 }, seed: 1 });
    let i = 0;
    const t0 = performance.now();
    let tb = 0;
    for await (const batch of sampler.prefetch(0)) {
      const t1 = performance.now();
      const inp = batchToTensors(batch);
      const { value, grads } = tf.variableGrads(() => {
        const o = model.predictPatches(inp.patches, { training: true });
        const s = tf.mean(tf.softplus(tf.neg(tf.mul(o.scoreLogits, inp.labels))));
        const m = tf.mean(tf.softplus(tf.neg(tf.mul(o.maskLogits, tf.squeeze(tf.image.resizeBilinear(tf.expandDims(inp.maskTargets, 3) as tf.Tensor4D, [16, 16]), [3])))));
        return tf.add(s, m) as tf.Scalar;
      }, model.trainableVariables);
      await value.data();
      tf.dispose([value, grads, inp.patches, inp.maskTargets, inp.labels]);
      tb += performance.now() - t1;
      if (++i === 20) break;
    }
    console.log(backend, 'ms/step', (performance.now() - t0) / 20, 'compute', tb / 20, Object.keys(batchToTensors));
    model.dispose();
  }
});
