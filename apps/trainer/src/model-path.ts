import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { DeepMask } from '@deepmask/model';
import { loadDeepMask } from '@deepmask/model';
import { readModel } from './checkpoint.js';
import { TrainerError } from './errors.js';
import { runPaths } from './run-folder.js';

/** `--model`: a run folder (its best `model/`), a folder holding `model.json`, or an http(s) URL. */
export async function openModel(location: string): Promise<{ model: DeepMask; runDir?: string }> {
  if (/^https?:\/\//.test(location)) return { model: await loadDeepMask(location) };
  const paths = runPaths(location);
  if (existsSync(paths.model) || existsSync(`${paths.model}.old`))
    return { model: await readModel(paths.model), runDir: paths.root };
  if (existsSync(join(location, 'model.json'))) return { model: await readModel(resolve(location)) };
  throw new TrainerError(
    `--model: '${location}' is neither a run folder (with model/) nor a folder with model.json`,
  );
}
