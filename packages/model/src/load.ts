import type { DeepMaskConfig } from './config.js';
import { DeepMask } from './deepmask.js';
import { assignWeights, configDifferences, readWeights, type UrlOrHandler } from './io.js';

export interface LoadOptions {
  /** Fields the file's config must have (e.g. the trainer's own config when resuming). */
  expectedConfig?: Partial<DeepMaskConfig>;
}

/** Loads a model saved by `DeepMask.save`, building it from the config inside the file. */
export async function loadDeepMask(urlOrHandler: UrlOrHandler, options: LoadOptions = {}): Promise<DeepMask> {
  const where = `loadDeepMask(${typeof urlOrHandler === 'string' ? `'${urlOrHandler}'` : 'handler'})`;
  const { config, tensors } = await readWeights(urlOrHandler);
  const differences = configDifferences(config, options.expectedConfig ?? {});
  let model: DeepMask | undefined;
  try {
    if (differences.length > 0)
      throw new Error(`${where}: the file was made for another config: ${differences.join('; ')}`);
    model = new DeepMask(config, 1);
  } catch (error) {
    for (const tensor of Object.values(tensors)) tensor.dispose();
    throw error;
  }
  try {
    assignWeights(model.weights.entries, tensors, where, 'error');
  } catch (error) {
    model.dispose();
    throw error;
  }
  return model;
}
