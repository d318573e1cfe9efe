import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { expect, it } from 'vitest';
import { createDeepMask, defaultConfig } from '../src/index.js';
import { importMobileNetWeights } from '../src/node.js';
import { describeEachBackend, maxAbsDiff, randomPixels } from './backends.js';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const shared = process.env.DEEPMASK_SHARED ?? resolve(repoRoot, '../shared');
const weightsDir = join(shared, 'weights/mobilenet_v1_1.0_224');
const available = existsSync(join(weightsDir, 'model.json'));
if (!available)
  console.warn(`SKIP MobileNet import tests: ${weightsDir}/model.json not found (set DEEPMASK_SHARED)`);

const SIZE = 64;
const LAST = 'conv_pw_11_relu';

interface KerasJson {
  modelTopology: {
    model_config: {
      config: { layers: { name: string; config: Record<string, unknown> }[]; output_layers: unknown };
    };
  };
  weightsManifest: tf.io.WeightsManifestConfig;
}

/** The published Keras MobileNet cut after conv_pw_11_relu, built by tfjs-layers on the same weights. */
async function kerasTrunk(): Promise<tfl.LayersModel> {
  const json = JSON.parse(await readFile(join(weightsDir, 'model.json'), 'utf8')) as KerasJson;
  const config = json.modelTopology.model_config.config;
  config.layers = config.layers.slice(0, config.layers.findIndex((l) => l.name === LAST) + 1);
  config.layers[0].config.batch_input_shape = [null, SIZE, SIZE, 3];
  config.output_layers = [[LAST, 0, 0]];
  const layerNames = new Set(config.layers.map((l) => l.name));
  const needed = json.weightsManifest
    .flatMap((g) => g.weights.map((w) => w.name))
    .filter((n) => layerNames.has(n.split('/')[0]));
  const load = tf.io.weightsLoaderFactory((paths) =>
    Promise.all(paths.map(async (p) => (await readFile(p)).buffer as ArrayBuffer)),
  );
  const tensors = await load(json.weightsManifest, `${weightsDir}/`, needed);
  const { data, specs } = await tf.io.encodeWeights(tensors);
  tf.dispose(Object.values(tensors));
  return tfl.loadLayersModel(
    tf.io.fromMemory({ modelTopology: json.modelTopology, weightSpecs: specs, weightData: data }),
  );
}

describeEachBackend('MobileNet v1 import', () => {
  it.skipIf(!available)(
    'reproduces tfjs-layers activations of conv_pw_11_relu on the same weights',
    async () => {
      const model = createDeepMask(
        defaultConfig('mobilenet-v1', {
          inputSizePx: SIZE,
          maskSizePx: 8,
          embeddingSize: 32,
          scoreHiddenSizes: [16, 16],
        }),
      );
      const fetched: string[] = [];
      await importMobileNetWeights(model, weightsDir, {
        fetchFunc: async (path) => {
          fetched.push(path.slice(path.lastIndexOf('/') + 1));
          return new Response(await readFile(path));
        },
      });
      // Only groups of conv1 .. conv_pw_11 are read: not conv_pw_12/13 (group35..38, 37 is absent) nor conv_preds (29).
      for (const group of [
        'group29-',
        'group35-',
        'group36-',
        'group37-',
        'group38-',
        'group10-',
        'group11-',
      ]) {
        expect(fetched.some((f) => f.startsWith(group))).toBe(false);
      }
      // conv1 and 22 dw/pw convs, each a kernel group and a batch norm group.
      expect(fetched.filter((f) => f.startsWith('group')).length).toBe(2 * 23);

      const keras = await kerasTrunk();
      const image = randomPixels([2, SIZE, SIZE, 3]);
      const ours = model.trunkFeatures(image);
      const theirs = tf.tidy(() => keras.predict(tf.sub(tf.div(image, 127.5), 1)) as tf.Tensor4D);
      expect(ours.shape).toEqual([2, 4, 4, 512]);
      expect(maxAbsDiff(ours, theirs)).toBeLessThan(1e-4);
      // The activations are not trivially zero or saturated.
      const mean = tf.tidy(() => tf.mean(theirs).dataSync()[0]);
      expect(mean).toBeGreaterThan(0.05);
      tf.dispose([image, ours, theirs]);
      keras.dispose();
      model.dispose();
    },
  );
});

it('refuses a model whose trunk is not MobileNet', async () => {
  const model = createDeepMask(defaultConfig('tiny'));
  await expect(importMobileNetWeights(model, weightsDir)).rejects.toThrow(
    "the model's trunk is 'tiny', expected 'mobilenet-v1'",
  );
  model.dispose();
});
