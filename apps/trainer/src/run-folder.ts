import { existsSync } from 'node:fs';
import { mkdir, readdir, rename, rm } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';

/** The files of a run folder (docs/architecture.md): what the trainer writes and `eval`/the viewer read. */
export interface RunPaths {
  root: string;
  config: string;
  metrics: string;
  /** Best model by validation AR (or the latest when no evaluation ran). */
  model: string;
  /** Latest checkpoint: `model/`, `optimizer.json` + `optimizer.bin`, `state.json`. */
  checkpoint: string;
  eval: string;
}

export function runPaths(runDir: string): RunPaths {
  const root = resolve(runDir);
  return {
    root,
    config: join(root, 'config.json'),
    metrics: join(root, 'metrics.jsonl'),
    model: join(root, 'model'),
    checkpoint: join(root, 'checkpoint'),
    eval: join(root, 'eval'),
  };
}

/** A crash between the two renames of `replaceDirectory` leaves only this one. */
function previousOf(target: string): string {
  return `${target}.old`;
}

/**
 * Replaces directory `target` by one that `write` fills, so that a reader always finds either the old or
 * the new complete directory: `write` fills a temporary sibling, then two renames swap it in.
 * `beforeCommit` is a test seam to simulate a crash after the temporary write.
 */
export async function replaceDirectory(
  target: string,
  write: (tempDir: string) => Promise<void>,
  beforeCommit?: () => Promise<void> | void,
): Promise<void> {
  await removeStaleTemporaries(target);
  const temp = `${target}.tmp-${process.pid}-${Date.now()}`;
  await mkdir(temp, { recursive: true });
  await write(temp);
  await beforeCommit?.();
  const previous = previousOf(target);
  await rm(previous, { recursive: true, force: true });
  if (existsSync(target)) await rename(target, previous);
  await rename(temp, target);
  await rm(previous, { recursive: true, force: true });
}

/** The complete directory to read for `target`: itself, or its previous version after an interrupted swap. */
export function committedDirectory(target: string, marker: string): string | undefined {
  for (const candidate of [target, previousOf(target)]) {
    if (existsSync(join(candidate, marker))) return candidate;
  }
  return undefined;
}

async function removeStaleTemporaries(target: string): Promise<void> {
  const parent = dirname(target);
  if (!existsSync(parent)) return;
  const prefix = `${basename(target)}.tmp-`;
  for (const name of await readdir(parent)) {
    if (name.startsWith(prefix)) await rm(join(parent, name), { recursive: true, force: true });
  }
}
