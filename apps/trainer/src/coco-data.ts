import { existsSync, statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { CocoDataset } from '@deepmask/coco';
import type { ImageDecoder, ImageSource } from '@deepmask/sampling';
import { directorySource, sharpDecoder } from '@deepmask/sampling/node';
import { TrainerError } from './errors.js';

/** A COCO-format split: the validated index, its raw JSON (to take subsets) and where its images are. */
export interface CocoData {
  dataset: CocoDataset;
  json: CocoJson;
  images: ImageSource;
  decoder: ImageDecoder;
  annPath: string;
}

export interface CocoJson {
  images: { id: number; [key: string]: unknown }[];
  annotations: { image_id: number; [key: string]: unknown }[];
  categories: unknown[];
  [key: string]: unknown;
}

/** Reads `annPath` (instances JSON) and serves images from `imageDir`; errors name the flag and file. */
export async function loadCocoData(
  imageDir: string,
  annPath: string,
  flags = { data: 'data', ann: 'ann' },
): Promise<CocoData> {
  if (!existsSync(imageDir) || !statSync(imageDir).isDirectory()) {
    throw new TrainerError(`--${flags.data}: '${imageDir}' is not a directory`);
  }
  let text: string;
  try {
    text = await readFile(annPath, 'utf8');
  } catch (error) {
    throw new TrainerError(
      `--${flags.ann}: cannot read '${annPath}' (${(error as NodeJS.ErrnoException).code})`,
    );
  }
  let json: CocoJson;
  try {
    json = JSON.parse(text) as CocoJson;
  } catch (error) {
    throw new TrainerError(`--${flags.ann}: '${annPath}' is not valid JSON: ${(error as Error).message}`);
  }
  let dataset: CocoDataset;
  try {
    dataset = CocoDataset.fromJson(json, annPath);
  } catch (error) {
    throw new TrainerError(`--${flags.ann}: ${(error as Error).message}`);
  }
  return { dataset, json, images: directorySource(imageDir), decoder: sharpDecoder(), annPath };
}

/** The dataset restricted to `imageIds` (evaluation then averages over these images only). */
export function subsetDataset(data: CocoData, imageIds: readonly number[]): CocoDataset {
  const keep = new Set(imageIds);
  const json = {
    ...data.json,
    images: data.json.images.filter((image) => keep.has(image.id)),
    annotations: data.json.annotations.filter((annotation) => keep.has(annotation.image_id)),
  };
  return CocoDataset.fromJson(json, `${data.annPath} (subset of ${imageIds.length} images)`);
}

/** The first `count` image ids in file order: a fixed validation subset. */
export function firstImageIds(data: CocoData, count: number): number[] {
  return data.json.images.slice(0, count).map((image) => image.id);
}
