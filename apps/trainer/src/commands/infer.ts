import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { basename, extname, join } from 'node:path';
import { rleToCocoJson } from '@deepmask/coco';
import type { DeepMask } from '@deepmask/model';
import { sharpDecoder } from '@deepmask/sampling/node';
import * as tf from '@tensorflow/tfjs-core';
import { type BackendName, selectBackend } from '../backend.js';
import { TrainerError, UsageError } from '../errors.js';
import { proposeForImage } from '../evaluation.js';
import type { CommandIo } from '../main.js';
import { openModel } from '../model-path.js';
import type { FlagValues } from '../options.js';
import { writeOverlayPng } from '../overlay.js';

export interface InferOutputs {
  proposalsJson: string;
  overlayPng: string;
}

export async function inferCommand(
  values: FlagValues,
  positionals: string[],
  io: CommandIo,
): Promise<number> {
  if (positionals.length === 0) throw new UsageError('no IMAGE given');
  await selectBackend(values.backend as BackendName);
  const { model } = await openModel(values.model as string);
  const out = values.out as string;
  for (const imagePath of positionals) {
    const outputs = await inferImage(model, imagePath, out, values['top-n'] as number, values.show as number);
    io.stdout.write(`${imagePath}: ${outputs.proposalsJson}, ${outputs.overlayPng}\n`);
  }
  model.dispose();
  return 0;
}

/** Proposals of one image file as `<name>.proposals.json`, and its best `show` drawn in `<name>.overlay.png`. */
export async function inferImage(
  model: DeepMask,
  imagePath: string,
  outDir: string,
  topN: number,
  show: number,
): Promise<InferOutputs> {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(imagePath);
  } catch (error) {
    throw new TrainerError(`IMAGE '${imagePath}': cannot read (${(error as NodeJS.ErrnoException).code})`);
  }
  const rgb = await sharpDecoder().decode(bytes, imagePath);
  await mkdir(outDir, { recursive: true });
  const image = tf.tensor3d(rgb.data, [rgb.height, rgb.width, 3], 'int32');
  const proposals = await proposeForImage(model, image, topN).finally(() => image.dispose());
  const name = basename(imagePath, extname(imagePath));
  const outputs = {
    proposalsJson: join(outDir, `${name}.proposals.json`),
    overlayPng: join(outDir, `${name}.overlay.png`),
  };
  const json = {
    image: imagePath,
    width: rgb.width,
    height: rgb.height,
    proposals: proposals.map((p) => ({
      score: p.score,
      bbox: p.bbox,
      segmentation: rleToCocoJson(p.rle),
      scale: p.scale,
      x: p.x,
      y: p.y,
    })),
  };
  await writeFile(outputs.proposalsJson, JSON.stringify(json));
  await writeOverlayPng(outputs.overlayPng, rgb, proposals.slice(0, show));
  return outputs;
}
