import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type DeepMask, loadDeepMask } from '@deepmask/model';
import { fileSystemHandler } from '@deepmask/model/node';
import { TrainerError } from './errors.js';
import type { SgdMomentum, SgdState } from './optimizer.js';
import { committedDirectory, replaceDirectory } from './run-folder.js';

/** Everything besides weights that an exact resume needs. */
export interface TrainingState {
  /** Optimizer steps taken. */
  step: number;
  /** Index of the next sampler batch (`sampler.batch(index)` is a pure function of seed and index). */
  samplerIndex: number;
  seed: number;
  /** Training wall time over all sessions of the run, in seconds. */
  elapsedSec: number;
  /** Best validation AR (segm AR@100) so far and its step. */
  bestAr?: number;
  bestStep?: number;
  /** State of the generator behind `Math.random` (dropout masks). */
  rngState: number;
}

export interface Checkpoint {
  model: DeepMask;
  optimizer: SgdState;
  state: TrainingState;
  /** The directory it was read from (the previous one after an interrupted write). */
  dir: string;
}

const STATE_FILE = 'state.json';

/** Writes model, optimizer and state to `dir` atomically: a crash leaves the previous checkpoint whole. */
export async function writeCheckpoint(
  dir: string,
  model: DeepMask,
  optimizer: SgdMomentum,
  state: TrainingState,
  beforeCommit?: () => Promise<void> | void,
): Promise<void> {
  const optimizerState = await optimizer.state();
  await replaceDirectory(
    dir,
    async (temp) => {
      await writeModel(join(temp, 'model'), model);
      const bytes = Buffer.concat(
        optimizerState.buffers.map((b) => Buffer.from(b.buffer, b.byteOffset, b.byteLength)),
      );
      await writeFile(join(temp, 'optimizer.bin'), bytes);
      await writeFile(join(temp, 'optimizer.json'), JSON.stringify({ shapes: optimizerState.shapes }));
      // Written last: its presence marks a complete checkpoint.
      await writeFile(join(temp, STATE_FILE), `${JSON.stringify(state, null, 2)}\n`);
    },
    beforeCommit,
  );
}

/** Saves `model` (weights and config) as a tfjs `model.json` + shards in `dir`. */
export async function writeModel(dir: string, model: DeepMask): Promise<void> {
  await model.save(fileSystemHandler(dir));
}

/** Replaces `dir` by `model` atomically (the run's best model). */
export async function replaceModel(dir: string, model: DeepMask): Promise<void> {
  await replaceDirectory(dir, (temp) => writeModel(temp, model));
}

/** Loads a model directory (holding `model.json`), also after an interrupted replace. */
export async function readModel(dir: string): Promise<DeepMask> {
  const committed = committedDirectory(dir, 'model.json');
  if (committed === undefined) throw new TrainerError(`no model.json in '${dir}'`);
  return loadDeepMask(fileSystemHandler(committed));
}

/** The latest complete checkpoint in `dir`, or undefined when none was written. */
export async function readCheckpoint(dir: string): Promise<Checkpoint | undefined> {
  const committed = committedDirectory(dir, STATE_FILE);
  if (committed === undefined) return undefined;
  const state = JSON.parse(await readFile(join(committed, STATE_FILE), 'utf8')) as TrainingState;
  const { shapes } = JSON.parse(await readFile(join(committed, 'optimizer.json'), 'utf8')) as {
    shapes: number[][];
  };
  const bytes = await readFile(join(committed, 'optimizer.bin'));
  const all = new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
  const buffers: Float32Array[] = [];
  let offset = 0;
  for (const shape of shapes) {
    const size = shape.reduce((a, b) => a * b, 1);
    buffers.push(all.subarray(offset, offset + size));
    offset += size;
  }
  if (offset !== all.length) {
    throw new TrainerError(
      `${join(committed, 'optimizer.bin')}: ${all.length} values, optimizer.json describes ${offset}`,
    );
  }
  const model = await loadDeepMask(fileSystemHandler(join(committed, 'model')));
  return { model, optimizer: { shapes, buffers }, state, dir: committed };
}

export function hasCheckpoint(dir: string): boolean {
  return committedDirectory(dir, STATE_FILE) !== undefined || existsSync(join(dir, STATE_FILE));
}
