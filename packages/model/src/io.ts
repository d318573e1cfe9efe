import * as tf from '@tensorflow/tfjs-core';
import { type DeepMaskConfig, validateConfig } from './config.js';
import type { WeightEntry, WeightStore } from './weights.js';

/** Tag in `model.json`'s `format` field; `modelTopology` holds this tag's version and the config. */
export const FORMAT = 'deepmask-weights';
export const FORMAT_VERSION = 1;

interface DeepMaskTopology {
  class_name: 'DeepMask';
  formatVersion: number;
  config: DeepMaskConfig;
}

/** A url that a registered tf.io router understands (http(s)://, indexeddb://, ...) or a handler. */
export type UrlOrHandler = string | tf.io.IOHandler;

function describe(urlOrHandler: UrlOrHandler): string {
  return typeof urlOrHandler === 'string' ? `'${urlOrHandler}'` : 'the given handler';
}

function resolveHandler(
  urlOrHandler: UrlOrHandler,
  direction: 'save' | 'load',
  where: string,
): tf.io.IOHandler {
  if (typeof urlOrHandler !== 'string') return urlOrHandler;
  const handlers =
    direction === 'save' ? tf.io.getSaveHandlers(urlOrHandler) : tf.io.getLoadHandlers(urlOrHandler);
  if (handlers.length === 0) {
    throw new Error(
      `${where}: no tf.io ${direction} handler for '${urlOrHandler}' (use http(s)://, indexeddb://, ` +
        `a tf.io handler, or in Node fileSystemHandler(dir) from '@deepmask/model/node')`,
    );
  }
  return handlers[0];
}

export async function saveWeights(
  config: DeepMaskConfig,
  store: WeightStore,
  urlOrHandler: UrlOrHandler,
): Promise<tf.io.SaveResult> {
  const handler = resolveHandler(urlOrHandler, 'save', 'DeepMask.save');
  if (handler.save === undefined) throw new Error(`DeepMask.save: ${describe(urlOrHandler)} cannot save`);
  const { data, specs } = await tf.io.encodeWeights(
    store.entries.map((e) => ({ name: e.name, tensor: e.variable })),
  );
  const modelTopology: DeepMaskTopology = { class_name: 'DeepMask', formatVersion: FORMAT_VERSION, config };
  return handler.save({
    modelTopology,
    format: FORMAT,
    generatedBy: '@deepmask/model',
    convertedBy: null,
    weightSpecs: specs,
    weightData: data,
  });
}

export interface LoadedWeights {
  config: DeepMaskConfig;
  tensors: tf.NamedTensorMap;
}

/** Reads a DeepMask file; errors name the source and what is wrong with it. */
export async function readWeights(urlOrHandler: UrlOrHandler): Promise<LoadedWeights> {
  const where = `loadDeepMask(${describe(urlOrHandler)})`;
  const handler = resolveHandler(urlOrHandler, 'load', 'loadDeepMask');
  if (handler.load === undefined) throw new Error(`${where}: the handler cannot load`);
  const artifacts = await handler.load();
  if (artifacts.format !== FORMAT) {
    throw new Error(
      `${where}: format is '${artifacts.format}', expected '${FORMAT}' (not a DeepMask model file)`,
    );
  }
  const topology = artifacts.modelTopology as Partial<DeepMaskTopology> | undefined;
  if (topology?.class_name !== 'DeepMask' || topology.formatVersion !== FORMAT_VERSION) {
    throw new Error(
      `${where}: modelTopology must be { class_name: 'DeepMask', formatVersion: ${FORMAT_VERSION}, config }`,
    );
  }
  if (topology.config === undefined) throw new Error(`${where}: modelTopology.config is missing`);
  validateConfig(topology.config, where);
  if (artifacts.weightSpecs === undefined || artifacts.weightData === undefined) {
    throw new Error(`${where}: the file has no weights manifest or no weight data`);
  }
  return {
    config: topology.config,
    tensors: tf.io.decodeWeights(artifacts.weightData, artifacts.weightSpecs),
  };
}

/**
 * Assigns `tensors` to `entries` by name; every entry must be present with its shape.
 * Disposes `tensors`. `extra` says whether tensors without an entry are an error.
 */
export function assignWeights(
  entries: WeightEntry[],
  tensors: tf.NamedTensorMap,
  where: string,
  extra: 'error' | 'ignore',
): void {
  try {
    for (const entry of entries) {
      const tensor = tensors[entry.name];
      if (tensor === undefined) throw new Error(`${where}: weight '${entry.name}' is missing from the file`);
      const [got, want] = [tensor.shape.join('x'), entry.variable.shape.join('x')];
      if (got !== want)
        throw new Error(
          `${where}: weight '${entry.name}' has shape [${got}] in the file, the model expects [${want}]`,
        );
    }
    if (extra === 'error') {
      const known = new Set(entries.map((entry) => entry.name));
      const unknown = Object.keys(tensors).filter((name) => !known.has(name));
      if (unknown.length > 0)
        throw new Error(`${where}: the file has weights this model lacks: ${unknown.slice(0, 5).join(', ')}`);
    }
    for (const entry of entries) entry.variable.assign(tensors[entry.name]);
  } finally {
    tf.dispose(tensors);
  }
}

/** Field-by-field differences between a file's config and an expected one, e.g. "trunk: file 'tiny', expected 'vgg-a'". */
export function configDifferences(file: DeepMaskConfig, expected: Partial<DeepMaskConfig>): string[] {
  return Object.entries(expected)
    .filter(([field, value]) => JSON.stringify(value) !== JSON.stringify(file[field as keyof DeepMaskConfig]))
    .map(
      ([field, value]) =>
        `${field}: file ${JSON.stringify(file[field as keyof DeepMaskConfig])}, expected ${JSON.stringify(value)}`,
    );
}
