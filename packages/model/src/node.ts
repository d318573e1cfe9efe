import { mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import type { DeepMask } from './deepmask.js';
import { type ImportOptions, importMobileNetWeights as importFromUrl } from './mobilenet-import.js';

const SHARD_BYTES = 4 * 1024 * 1024;

async function writeAtomic(path: string, data: string | Uint8Array): Promise<void> {
  const temp = `${path}.tmp-${process.pid}-${Date.now()}`;
  await writeFile(temp, data);
  await rename(temp, path);
}

/**
 * A tf.io handler over a directory: `model.json` plus `.bin` shards of 4 MiB, as the tfjs converter
 * writes them. Saving writes fresh shard names first and renames `model.json` last, so a reader sees
 * the old model or the new one, never a mix; stale shards are removed after.
 */
export function fileSystemHandler(dir: string): tf.io.IOHandler {
  const modelJsonPath = join(dir, 'model.json');
  return {
    async save(artifacts: tf.io.ModelArtifacts): Promise<tf.io.SaveResult> {
      if (artifacts.weightData === undefined || artifacts.weightSpecs === undefined) {
        throw new Error(`fileSystemHandler('${dir}'): nothing to save (no weights)`);
      }
      await mkdir(dir, { recursive: true });
      const data = new Uint8Array(tf.io.CompositeArrayBuffer.join(artifacts.weightData));
      const count = Math.max(1, Math.ceil(data.byteLength / SHARD_BYTES));
      const stamp = `${Date.now().toString(36)}${process.pid.toString(36)}`;
      const paths = Array.from({ length: count }, (_, i) => `weights-${stamp}-shard${i + 1}of${count}.bin`);
      for (const [i, path] of paths.entries()) {
        await writeAtomic(join(dir, path), data.subarray(i * SHARD_BYTES, (i + 1) * SHARD_BYTES));
      }
      const modelJson: tf.io.ModelJSON = {
        modelTopology: artifacts.modelTopology ?? {},
        format: artifacts.format,
        generatedBy: artifacts.generatedBy,
        convertedBy: artifacts.convertedBy,
        ...(artifacts.userDefinedMetadata ? { userDefinedMetadata: artifacts.userDefinedMetadata } : {}),
        weightsManifest: [{ paths, weights: artifacts.weightSpecs }],
      };
      await writeAtomic(modelJsonPath, JSON.stringify(modelJson));
      const current = new Set(paths);
      for (const name of await readdir(dir)) {
        if (name.startsWith('weights-') && name.endsWith('.bin') && !current.has(name))
          await rm(join(dir, name), { force: true });
      }
      return { modelArtifactsInfo: tf.io.getModelArtifactsInfoForJSON(artifacts) };
    },

    async load(): Promise<tf.io.ModelArtifacts> {
      let text: string;
      try {
        text = await readFile(modelJsonPath, 'utf8');
      } catch (error) {
        throw new Error(
          `fileSystemHandler('${dir}'): cannot read ${modelJsonPath}: ${(error as Error).message}`,
        );
      }
      const modelJson = JSON.parse(text) as tf.io.ModelJSON;
      return tf.io.getModelArtifactsForJSON(modelJson, async (manifest) => {
        const specs = manifest.flatMap((group) => group.weights);
        const buffers = [];
        for (const path of manifest.flatMap((group) => group.paths)) {
          const bytes = await readFile(join(dir, path));
          buffers.push(
            bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer,
          );
        }
        return [specs, tf.io.CompositeArrayBuffer.join(buffers)];
      });
    },
  };
}

/** `fetch` that also reads local paths and file:// urls. */
async function fileFetch(url: string): Promise<Response> {
  if (/^https?:\/\//i.test(url)) return fetch(url);
  const path = url.startsWith('file://') ? fileURLToPath(url) : url;
  return new Response(await readFile(path));
}

/** `importMobileNetWeights` for a local `model.json` path (or its directory), file:// or http(s) url. */
export function importMobileNetWeights(
  model: DeepMask,
  modelJsonPath: string,
  options: ImportOptions = {},
): Promise<void> {
  const path = modelJsonPath.endsWith('.json') ? modelJsonPath : join(modelJsonPath, 'model.json');
  return importFromUrl(model, path, { fetchFunc: fileFetch, ...options });
}
