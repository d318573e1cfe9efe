import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createDeepMask, type DeepMask, defaultConfig, FORMAT, loadDeepMask } from '../src/index.js';
import { fileSystemHandler } from '../src/node.js';
import { describeEachBackend, maxAbsDiff, randomPixels } from './backends.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'deepmask-io-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function expectSameOutputs(a: DeepMask, b: DeepMask): Promise<void> {
  const patches = randomPixels([2, a.config.inputSizePx, a.config.inputSizePx, 3]);
  const [pa, pb] = [a.predictPatches(patches), b.predictPatches(patches)];
  expect(maxAbsDiff(pa.maskLogits, pb.maskLogits)).toBe(0);
  expect(maxAbsDiff(pa.scoreLogits, pb.scoreLogits)).toBe(0);
  tf.dispose([patches, pa, pb]);
}

describeEachBackend('save and load', (backend) => {
  it('through the Node file handler: model.json + .bin shards, config inside, identical outputs', async () => {
    const config = defaultConfig('mobilenet-v1', {
      inputSizePx: 64,
      maskSizePx: 8,
      embeddingSize: 32,
      scoreHiddenSizes: [16, 16],
    });
    const model = createDeepMask(config, { seed: 4 });
    const target = join(dir, `mobilenet-${backend}`);
    await model.save(fileSystemHandler(target));
    const modelJson = JSON.parse(await readFile(join(target, 'model.json'), 'utf8'));
    expect(modelJson.format).toBe(FORMAT);
    expect(modelJson.modelTopology.config).toEqual(config);
    const paths: string[] = modelJson.weightsManifest[0].paths;
    expect(paths.length).toBe(
      Math.ceil(model.weights.entries.reduce((n, e) => n + 4 * e.variable.size, 0) / (4 << 20)),
    );
    const names = modelJson.weightsManifest[0].weights.map((w: { name: string }) => w.name);
    expect(names).toContain('trunk/conv_pw_11_bn/offset');
    const loaded = await loadDeepMask(fileSystemHandler(target));
    expect(loaded.config).toEqual(config);
    await expectSameOutputs(model, loaded);
    // Saving again replaces the shards: no stale files are left behind.
    await loaded.save(fileSystemHandler(target));
    const files = (await readdir(target)).sort();
    expect(files.filter((f) => f.endsWith('.bin')).length).toBe(paths.length);
    expect(files.some((f) => f.includes('.tmp-'))).toBe(false);
    model.dispose();
    loaded.dispose();
  });

  it('through any tf.io handler (in-memory round trip)', async () => {
    const model = createDeepMask(defaultConfig('tiny', { head: 'shared', scoreHiddenSizes: [32] }), {
      seed: 8,
    });
    let saved: tf.io.ModelArtifacts | undefined;
    await model.save(
      tf.io.withSaveHandler(async (artifacts) => {
        saved = artifacts;
        return { modelArtifactsInfo: tf.io.getModelArtifactsInfoForJSON(artifacts) };
      }),
    );
    if (saved === undefined) throw new Error('nothing saved');
    const loaded = await loadDeepMask(tf.io.fromMemory(saved));
    await expectSameOutputs(model, loaded);
    model.dispose();
    loaded.dispose();
  });
});

describeEachBackend('load errors name the mismatch', () => {
  let target: string;
  let modelJson: Record<string, unknown> & {
    modelTopology: { config: Record<string, unknown> };
    weightsManifest: { weights: { name: string; shape: number[] }[] }[];
  };
  beforeAll(async () => {
    const model = createDeepMask(defaultConfig('tiny'));
    target = join(dir, `tiny-${tf.getBackend()}`);
    await model.save(fileSystemHandler(target));
    model.dispose();
    modelJson = JSON.parse(await readFile(join(target, 'model.json'), 'utf8'));
  });
  const rewrite = async (edit: (json: typeof modelJson) => void) => {
    const copy = structuredClone(modelJson);
    edit(copy);
    await writeFile(join(target, 'model.json'), JSON.stringify(copy));
  };
  afterAll(async () => {
    await writeFile(join(target, 'model.json'), JSON.stringify(modelJson));
  });

  it('a file made for another trunk or config', async () => {
    await rewrite(() => {});
    const before = tf.memory().numTensors;
    await expect(
      loadDeepMask(fileSystemHandler(target), { expectedConfig: { trunk: 'vgg-a' } }),
    ).rejects.toThrow(`the file was made for another config: trunk: file "tiny", expected "vgg-a"`);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('a missing weight, a shape mismatch, a config that no longer fits the weights', async () => {
    await rewrite((json) => {
      json.weightsManifest[0].weights[0].name = 'trunk/conv9/kernel';
    });
    await expect(loadDeepMask(fileSystemHandler(target))).rejects.toThrow(
      "weight 'trunk/conv1/kernel' is missing from the file",
    );
    await rewrite((json) => {
      json.modelTopology.config.embeddingSize = 32;
    });
    await expect(loadDeepMask(fileSystemHandler(target))).rejects.toThrow(
      "weight 'mask/linear1/kernel' has shape [4x4x32x64] in the file, the model expects [4x4x32x32]",
    );
    await rewrite((json) => {
      json.modelTopology.config.maskSizePx = 0;
    });
    await expect(loadDeepMask(fileSystemHandler(target))).rejects.toThrow(
      'config.maskSizePx is 0; expected a positive integer',
    );
  });

  it('a file in another format', async () => {
    await rewrite((json) => {
      json.format = 'layers-model';
    });
    await expect(loadDeepMask(fileSystemHandler(target))).rejects.toThrow(
      "format is 'layers-model', expected 'deepmask-weights'",
    );
    await expect(loadDeepMask(fileSystemHandler(join(dir, 'nowhere')))).rejects.toThrow(
      /cannot read .*nowhere\/model.json/,
    );
    await expect(loadDeepMask(join(dir, 'nowhere'))).rejects.toThrow(/no tf.io load handler/);
  });
});
