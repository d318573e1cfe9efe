import { type DeepMask, loadDeepMask } from '@deepmask/model';
import * as tf from '@tensorflow/tfjs-core';

/** Where the last opened model is kept between visits. */
export const REMEMBERED_MODEL_URL = 'indexeddb://deepmask-last';

/** A run folder's `model.json` plus its weight shards, as picked or dropped. */
export async function openModelFromFiles(files: File[]): Promise<DeepMask> {
  const jsonFiles = files.filter((file) => file.name.endsWith('.json'));
  if (jsonFiles.length !== 1) {
    const names = files.map((file) => file.name).join(', ') || 'no files';
    throw new Error(`expected exactly one model.json with its .bin weight shards; got ${names}`);
  }
  const modelJson = jsonFiles[0];
  const shards = files.filter((file) => file !== modelJson);
  await checkModelJson(modelJson, shards);
  return withContext(`model "${modelJson.name}"`, () =>
    loadDeepMask(tf.io.browserFiles([modelJson, ...shards])),
  );
}

/** A model by URL (relative URLs are taken relative to the page). */
export async function openModelFromUrl(url: string): Promise<DeepMask> {
  const trimmed = url.trim();
  if (trimmed === '') throw new Error('the model URL is empty; expected the URL of a model.json');
  const absolute = trimmed.includes('://') ? trimmed : new URL(trimmed, window.location.href).href;
  return withContext(`model at ${absolute}`, () => loadDeepMask(absolute));
}

export async function openRememberedModel(): Promise<DeepMask | null> {
  const stored = await tf.io.listModels();
  if (!(REMEMBERED_MODEL_URL in stored)) return null;
  return loadDeepMask(REMEMBERED_MODEL_URL);
}

export async function rememberModel(model: DeepMask): Promise<void> {
  await model.save(REMEMBERED_MODEL_URL);
}

/** Catches the common mistakes (a results file, a truncated download, a missing shard) before the loader does. */
async function checkModelJson(file: File, shards: File[]): Promise<void> {
  let parsed: { weightsManifest?: { paths?: unknown }[] };
  try {
    parsed = JSON.parse(await file.text());
  } catch (error) {
    throw new Error(`"${file.name}" is not valid JSON (${(error as Error).message}); expected a model.json`);
  }
  if (!parsed || typeof parsed !== 'object' || !Array.isArray(parsed.weightsManifest)) {
    throw new Error(
      `"${file.name}" has no weightsManifest field; expected a TensorFlow.js model.json as the trainer writes it`,
    );
  }
  const picked = new Set(shards.map((shard) => shard.name));
  const needed = parsed.weightsManifest.flatMap((group) => (Array.isArray(group.paths) ? group.paths : []));
  const missing = needed.map((path) => String(path).split('/').pop()!).filter((name) => !picked.has(name));
  if (missing.length > 0) {
    throw new Error(
      `"${file.name}" needs its weight shards, and these were not picked: ${missing.join(', ')}`,
    );
  }
}

async function withContext<T>(what: string, task: () => Promise<T>): Promise<T> {
  try {
    return await task();
  } catch (error) {
    throw new Error(`${what} could not be opened: ${error instanceof Error ? error.message : String(error)}`);
  }
}
