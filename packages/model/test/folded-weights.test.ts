import * as tf from '@tensorflow/tfjs-core';
import { expect, it } from 'vitest';
import { createDeepMask, defaultConfig } from '../src/index.js';
import { describeEachBackend, maxAbsDiff, randomPixels } from './backends.js';

// MobileNet-v1's convolutions carry frozen batch-norm affines, folded into their filters and biases.
const CONFIG = defaultConfig('mobilenet-v1', {
  inputSizePx: 64,
  maskSizePx: 8,
  reducedChannels: 8,
  embeddingSize: 16,
  scoreHiddenSizes: [8],
});

describeEachBackend('folded filters at inference', () => {
  it('are made once, follow an assigned weight, and are freed with the model', () => {
    const tensorsBefore = tf.memory().numTensors;
    const model = createDeepMask(CONFIG, { seed: 3 });
    const twin = createDeepMask(CONFIG, { seed: 3 });
    const tensorsOfModels = tf.memory().numTensors;
    const patches = randomPixels([2, 64, 64, 3]);
    const predict = (m: typeof model) => {
      const { maskLogits, scoreLogits } = m.predictPatches(patches);
      return { maskLogits, scoreLogits };
    };

    const first = predict(model);
    const kept = tf.memory().numTensors - tensorsOfModels - 3; // patches and the two outputs
    // conv1, conv_dw_1..11 and conv_pw_1..11 have an affine and no bias of their own: 23 folded filters
    // (their biases are the affines' offsets as they are); and the input normalisation's batch-norm mean,
    // variance, scale and offset.
    expect(kept).toBe(23 + 4);
    const again = predict(model);
    expect(tf.memory().numTensors).toBe(tensorsOfModels + 3 + kept + 2);
    // (On wasm the first call's fresh filters and the kept ones take different kernels.)
    expect(maxAbsDiff(again.maskLogits, first.maskLogits)).toBeLessThan(1e-5);

    // A training step assigns new values: the folded filters follow them.
    const kernel = model.weights.get('trunk/conv_pw_3/kernel')!.variable;
    const twinKernel = twin.weights.get('trunk/conv_pw_3/kernel')!.variable;
    for (const variable of [kernel, twinKernel]) {
      const value = tf.mul(variable, -1.5);
      variable.assign(value);
      value.dispose();
    }
    const changed = predict(model);
    const reference = predict(twin);
    expect(maxAbsDiff(changed.maskLogits, first.maskLogits)).toBeGreaterThan(1e-3);
    expect(maxAbsDiff(changed.maskLogits, reference.maskLogits)).toBeLessThan(1e-5);
    expect(maxAbsDiff(changed.scoreLogits, reference.scoreLogits)).toBeLessThan(1e-5);

    // A training forward frees the kept tensors (a step is about to change the weights).
    const keptTensors = tf.memory().numTensors;
    const { value, grads } = tf.variableGrads(() => {
      const { maskLogits, scoreLogits } = model.predictPatches(patches, { training: true });
      return tf.add(tf.mean(maskLogits), tf.mean(scoreLogits)) as tf.Scalar;
    }, model.trainableVariables);
    tf.dispose([value, grads]);
    expect(tf.memory().numTensors).toBe(keptTensors - 23);

    tf.dispose([first, again, changed, reference, patches]);
    model.dispose();
    twin.dispose();
    expect(tf.memory().numTensors).toBe(tensorsBefore);
  });
});
