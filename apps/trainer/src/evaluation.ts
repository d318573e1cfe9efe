import { type CocoDataset, type CocoResult, evaluate } from '@deepmask/coco';
import type { DeepMask } from '@deepmask/model';
import { type Proposal, proposeMasks, toCocoResults } from '@deepmask/pyramid';
import * as tf from '@tensorflow/tfjs-core';
import { type CocoData, subsetDataset } from './coco-data.js';
import { TrainerError } from './errors.js';

/** Max detections of proposal evaluation (COCO's `maxDets` for AR@1/10/100/1000). */
export const MAX_DETS = [1, 10, 100, 1000];

export type CocoEvalJson = { stats: number[]; extra: Record<string, number> };

export interface ArSummary {
  'AR@10': number;
  'AR@100': number;
  'AR@1000': number;
  'AR_s@100': number;
  'AR_m@100': number;
  'AR_l@100': number;
}

export interface EvaluationReport {
  images: number;
  results: CocoResult[];
  segm: CocoEvalJson;
  bbox: CocoEvalJson;
  /** Mean milliseconds of the pyramid per image. */
  msPerImage: number;
}

export interface EvaluateOptions {
  topN: number;
  /** Called after each image, e.g. for progress. */
  onImage?: (done: number, total: number) => void;
}

/** Decodes an image of `data` into a `[H, W, 3]` int32 tensor of raw pixel values. */
export async function readImageTensor(data: CocoData, fileName: string): Promise<tf.Tensor3D> {
  let bytes: Uint8Array;
  try {
    bytes = await data.images.read(fileName);
  } catch (error) {
    throw new TrainerError(`${data.annPath}: cannot read image '${fileName}' (${(error as Error).message})`);
  }
  const rgb = await data.decoder.decode(bytes, fileName);
  return tf.tensor3d(rgb.data, [rgb.height, rgb.width, 3], 'int32');
}

/** The `file_name` of an image, which COCO makes optional but image folders need. */
export function imageFileName(data: CocoData, imageId: number): string {
  const name = data.dataset.image(imageId).file_name;
  if (name === undefined) throw new TrainerError(`${data.annPath}: image ${imageId} has no "file_name"`);
  return name;
}

/** Runs the pyramid on one image and returns its proposals. */
export async function proposeForImage(
  model: DeepMask,
  image: tf.Tensor3D,
  topN: number,
): Promise<Proposal[]> {
  const { proposals } = await proposeMasks(model, image, { topN });
  return proposals;
}

/** Pyramid inference on `imageIds` of `data`, then class-agnostic COCO AR for masks and boxes. */
export async function evaluateModel(
  model: DeepMask,
  data: CocoData,
  imageIds: readonly number[],
  options: EvaluateOptions,
): Promise<EvaluationReport> {
  const results: CocoResult[] = [];
  let pyramidMs = 0;
  for (const [i, imageId] of imageIds.entries()) {
    const image = await readImageTensor(data, imageFileName(data, imageId));
    const started = performance.now();
    try {
      results.push(...toCocoResults(await proposeForImage(model, image, options.topN), imageId));
    } finally {
      image.dispose();
    }
    pyramidMs += performance.now() - started;
    options.onImage?.(i + 1, imageIds.length);
  }
  const gt: CocoDataset = subsetDataset(data, imageIds);
  const evaluateAs = (iouType: 'segm' | 'bbox'): CocoEvalJson => {
    const { stats, extra } = evaluate(gt, results, {
      iouType,
      useCats: false,
      maxDets: MAX_DETS,
      perImage: false,
    });
    return { stats, extra };
  };
  return {
    images: imageIds.length,
    results,
    segm: evaluateAs('segm'),
    bbox: evaluateAs('bbox'),
    msPerImage: pyramidMs / Math.max(1, imageIds.length),
  };
}

/** The AR numbers of one evaluation (`extra` holds AR@N and AR by size at every N of `MAX_DETS`). */
export function summarizeAr(result: CocoEvalJson): ArSummary {
  const { extra } = result;
  return {
    'AR@10': extra['AR@10'],
    'AR@100': extra['AR@100'],
    'AR@1000': extra['AR@1000'],
    'AR_s@100': extra['AR_small@100'],
    'AR_m@100': extra['AR_medium@100'],
    'AR_l@100': extra['AR_large@100'],
  };
}

/** The AR table printed by `eval` and `demo`: one row per (model, iou type). */
export function formatArTable(rows: { name: string; segm: CocoEvalJson; bbox: CocoEvalJson }[]): string {
  const columns = ['AR@10', 'AR@100', 'AR@1000', 'AR_s@100', 'AR_m@100', 'AR_l@100'] as const;
  const nameWidth = Math.max(12, ...rows.map((r) => r.name.length + 7));
  const lines = [`${''.padEnd(nameWidth)}${columns.map((c) => c.padStart(10)).join('')}`];
  for (const row of rows) {
    for (const iouType of ['segm', 'bbox'] as const) {
      const ar = summarizeAr(row[iouType]);
      const cells = columns.map((c) =>
        (Number.isFinite(ar[c]) && ar[c] >= 0 ? ar[c].toFixed(3) : '-').padStart(10),
      );
      lines.push(`${`${row.name} ${iouType}`.padEnd(nameWidth)}${cells.join('')}`);
    }
  }
  return lines.join('\n');
}
