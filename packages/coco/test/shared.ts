import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

/** The shared data folder (`DEEPMASK_SHARED`, else beside the repo), or null when it is absent. */
export function sharedDir(): string | null {
  const dir = process.env.DEEPMASK_SHARED ?? path.resolve(repoRoot, '../shared');
  return existsSync(dir) ? dir : null;
}
