import * as tf from '@tensorflow/tfjs-core';
import type { DeepMask } from './deepmask.js';
import { assignWeights } from './io.js';

const MOBILENET_LAYER = /^trunk\/(conv1|conv1_bn|conv_(dw|pw)_\d+(_bn)?)\//;

export interface ImportOptions {
  /** Fetches model.json and the shards (default: the global `fetch`). */
  fetchFunc?: (url: string) => Promise<Response>;
}

interface KerasLayer {
  name?: string;
  config?: { name?: string; epsilon?: number };
}

const KERAS_BN_EPSILON = 1e-3;

function bnEpsilons(modelJson: { modelTopology?: unknown }): Map<string, number> {
  const topology = modelJson.modelTopology as
    | { model_config?: { config?: { layers?: KerasLayer[] } } }
    | undefined;
  const layers = topology?.model_config?.config?.layers ?? [];
  return new Map(
    layers
      .filter((l) => l.config?.epsilon !== undefined)
      .map((l) => [l.config?.name ?? '', l.config?.epsilon ?? 0]),
  );
}

/**
 * Imports ImageNet weights into a 'mobilenet-v1' model's trunk from a TensorFlow.js layers model
 * (Keras names conv1, conv_dw_1, conv_pw_1, ..., their *_bn batch norms), fetching only the
 * shards that hold the layers up to conv_pw_11. Batch norm is folded into the frozen affines.
 */
export async function importMobileNetWeights(
  model: DeepMask,
  modelJsonUrl: string,
  options: ImportOptions = {},
): Promise<void> {
  const where = `importMobileNetWeights('${modelJsonUrl}')`;
  if (model.config.trunk !== 'mobilenet-v1') {
    throw new Error(`${where}: the model's trunk is '${model.config.trunk}', expected 'mobilenet-v1'`);
  }
  const fetchFunc = options.fetchFunc ?? ((url: string) => globalThis.fetch(url));
  const fetchOk = async (url: string): Promise<Response> => {
    let response: Response;
    try {
      response = await fetchFunc(url);
    } catch (error) {
      const hint = /^[a-z]+:\/\//i.test(url)
        ? ''
        : " (for file paths in Node use importMobileNetWeights from '@deepmask/model/node')";
      throw new Error(`${where}: cannot fetch '${url}'${hint}: ${(error as Error).message}`);
    }
    if (!response.ok) throw new Error(`${where}: fetching '${url}' gave HTTP ${response.status}`);
    return response;
  };
  const modelJson = (await (await fetchOk(modelJsonUrl)).json()) as {
    modelTopology?: unknown;
    weightsManifest?: tf.io.WeightsManifestConfig;
  };
  if (!Array.isArray(modelJson.weightsManifest))
    throw new Error(`${where}: model.json has no weightsManifest`);

  // The 'shared' head style puts its 1x1 conv and linear in the trunk part: those are not MobileNet's.
  const trunkEntries = model.weights.entries.filter(
    (e) => e.part === 'trunk' && MOBILENET_LAYER.test(e.name),
  );
  const kerasName = (entry: string) => entry.replace(/^trunk\//, '');
  const needed = trunkEntries.flatMap((e) => {
    const name = kerasName(e.name);
    if (name.endsWith('/scale')) {
      const layer = name.slice(0, -'/scale'.length);
      return ['gamma', 'beta', 'moving_mean', 'moving_variance'].map((w) => `${layer}/${w}`);
    }
    return name.endsWith('/offset') ? [] : [name];
  });
  const available = new Set(modelJson.weightsManifest.flatMap((group) => group.weights.map((w) => w.name)));
  const missing = needed.filter((name) => !available.has(name));
  if (missing.length > 0)
    throw new Error(`${where}: the weights manifest lacks ${missing.slice(0, 5).join(', ')}`);

  const prefix = modelJsonUrl.slice(0, modelJsonUrl.lastIndexOf('/') + 1);
  const loadWeights = tf.io.weightsLoaderFactory((urls) =>
    Promise.all(urls.map(async (url) => (await fetchOk(url)).arrayBuffer())),
  );
  const keras = await loadWeights(modelJson.weightsManifest, prefix, needed);
  const epsilons = bnEpsilons(modelJson);
  const tensors: tf.NamedTensorMap = {};
  try {
    for (const entry of trunkEntries) {
      const name = kerasName(entry.name);
      if (name.endsWith('/offset')) continue;
      if (!name.endsWith('/scale')) {
        tensors[entry.name] = keras[name];
        continue;
      }
      const layer = name.slice(0, -'/scale'.length);
      const epsilon = epsilons.get(layer) ?? KERAS_BN_EPSILON;
      const [gamma, beta, mean, variance] = ['gamma', 'beta', 'moving_mean', 'moving_variance'].map(
        (w) => keras[`${layer}/${w}`],
      );
      // y = gamma (x - mean) / sqrt(var + eps) + beta = x * scale + offset
      const scale = tf.tidy(() => tf.mul(gamma, tf.rsqrt(tf.add(variance, epsilon))));
      tensors[entry.name] = scale;
      tensors[`trunk/${layer}/offset`] = tf.tidy(() => tf.sub(beta, tf.mul(mean, scale)));
    }
    assignWeights(trunkEntries, tensors, where, 'error');
  } finally {
    tf.dispose(Object.values(keras));
    tf.dispose(Object.values(tensors));
  }
}
