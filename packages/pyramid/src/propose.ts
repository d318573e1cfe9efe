import { rleArea, rleToBbox } from '@deepmask/coco';
import * as tf from '@tensorflow/tfjs-core';
import { DEFAULT_SCALE_BATCHING, planScaleBatches } from './batching.js';
import { batchInputSize, cellToImage, denseGridSize, type ScaleGeometry, scaleGeometry } from './geometry.js';
import { pasteMaskLogits, probabilityToLogit } from './paste.js';
import { type Candidate, rankCandidates, topIndices } from './ranking.js';
import { scaleBatchInput } from './scale-input.js';
import { scaleList } from './scales.js';
import type { DenseMaskModel, Proposal, ProposeOptions, ProposeResult, ScoreMap } from './types.js';

/** Score logits of one scale's own grid and its best cells. */
interface ScaleCandidates {
  scoreLogits: Float32Array;
  candidates: Candidate[];
}

/** One forward pass over a batch of scales: its images' mask features, kept until the top N are embedded. */
interface ScaleBatch {
  /** Scale indices, in batch order. */
  group: readonly number[];
  /** [group.length, ...] from `predictDenseScores`. */
  maskFeatures: tf.Tensor4D;
}

/**
 * DeepMask full-scene inference: the dense scores at every scale, all (scale, location) scores ranked
 * together, and only for the top N the mask embedding, the mask, pasted into the image and thresholded.
 * Proposals whose mask is empty are dropped. `image` is `[H, W, 3]` raw RGB 0..255.
 */
export async function proposeMasks(
  model: DenseMaskModel,
  image: tf.Tensor3D,
  options: ProposeOptions = {},
): Promise<ProposeResult> {
  const start = performance.now();
  if (image.rank !== 3 || image.shape[2] !== 3) {
    throw new Error(`proposeMasks: image has shape [${image.shape}]; expected [height, width, 3]`);
  }
  const [height, width] = image.shape;
  const topN = options.topN ?? 1000;
  if (!(Number.isInteger(topN) && topN >= 0)) {
    throw new Error(`proposeMasks: options.topN is ${topN}; expected a non-negative integer`);
  }
  const decodeBatchSize = options.decodeBatchSize ?? 256;
  if (!(Number.isInteger(decodeBatchSize) && decodeBatchSize >= 1)) {
    throw new Error(
      `proposeMasks: options.decodeBatchSize is ${decodeBatchSize}; expected a positive integer`,
    );
  }
  const logitThreshold = probabilityToLogit(options.maskThreshold ?? 0.2);
  const scales = scaleList(options.scales);
  const geometries = scales.map((s) => scaleGeometry(height, width, s, model.config.inputSizePx));
  const groups = planScaleBatches(
    geometries.map((g) => batchInputSize([g])),
    options.scaleBatching ?? DEFAULT_SCALE_BATCHING,
  );
  const progress = options.onProgress ?? (() => {});
  const timings = { denseMs: 0, rankMs: 0, embedMs: 0, decodeMs: 0, pasteMs: 0, totalMs: 0 };
  const perScale: ScaleCandidates[] = new Array(scales.length);
  const batches: ScaleBatch[] = [];
  try {
    let scalesDone = 0;
    for (const group of groups) {
      const { maskFeatures, results } = await runScaleBatch(model, image, group, geometries, topN, timings);
      batches.push({ group, maskFeatures });
      group.forEach((k, b) => {
        perScale[k] = results[b];
      });
      scalesDone += group.length;
      await progress({ stage: 'dense', done: scalesDone, total: scales.length });
    }
    let t = performance.now();
    const best = rankCandidates(
      perScale.flatMap((s) => s.candidates),
      topN,
    );
    timings.rankMs += performance.now() - t;
    t = performance.now();
    const embeddings = best.length > 0 ? embedBest(model, batches, best) : null;
    for (const batch of batches) batch.maskFeatures.dispose();
    timings.embedMs += performance.now() - t;
    let proposals: Proposal[] = [];
    if (embeddings) {
      try {
        proposals = await decodeProposals(model, best, embeddings, {
          geometries,
          height,
          width,
          logitThreshold,
          keep: options.keepMaskLogits ?? false,
          decodeBatchSize,
          timings,
          progress,
        });
      } finally {
        embeddings.dispose();
      }
    }
    timings.totalMs = performance.now() - start;
    const result: ProposeResult = { proposals, timings };
    if (options.scoreMaps) result.scoreMaps = perScale.map((s, k) => scoreMap(s.scoreLogits, geometries[k]));
    return result;
  } finally {
    for (const batch of batches) batch.maskFeatures.dispose();
  }
}

interface DecodeContext {
  geometries: readonly ScaleGeometry[];
  height: number;
  width: number;
  logitThreshold: number;
  keep: boolean;
  decodeBatchSize: number;
  timings: { decodeMs: number; pasteMs: number };
  progress: NonNullable<ProposeOptions['onProgress']>;
}

/** The masks of `best` (embeddings [best.length, E]) decoded in chunks, pasted; empty ones dropped. */
async function decodeProposals(
  model: DenseMaskModel,
  best: readonly Candidate[],
  embeddings: tf.Tensor2D,
  context: DecodeContext,
): Promise<Proposal[]> {
  const { decodeBatchSize, timings } = context;
  const proposals: Proposal[] = [];
  for (let from = 0; from < best.length; from += decodeBatchSize) {
    const t = performance.now();
    const chunk = best.slice(from, from + decodeBatchSize);
    const logits = await decodeChunk(model, embeddings, from, chunk.length);
    const t2 = performance.now();
    timings.decodeMs += t2 - t;
    for (let k = 0; k < chunk.length; k++) {
      const proposal = pasteCandidate(chunk[k], logits, k, model.config.maskSizePx, context);
      if (proposal) proposals.push(proposal);
    }
    timings.pasteMs += performance.now() - t2;
    await context.progress({ stage: 'decode', done: from + chunk.length, total: best.length });
  }
  return proposals;
}

/** One forward pass over a batch of scales: its mask features and, per scale, its scores and best cells. */
async function runScaleBatch(
  model: DenseMaskModel,
  image: tf.Tensor3D,
  group: readonly number[],
  geometries: readonly ScaleGeometry[],
  topN: number,
  timings: { denseMs: number; rankMs: number },
): Promise<{ maskFeatures: tf.Tensor4D; results: ScaleCandidates[] }> {
  let t = performance.now();
  const members = group.map((k) => geometries[k]);
  const { maskFeatures, scoreLogits } = tf.tidy(() => {
    const input = scaleBatchInput(image, members, model.config.pixelMean);
    return model.predictDenseScores(input);
  });
  try {
    const [batch, rows, cols] = scoreLogits.shape;
    const [expectedRows, expectedCols] = denseGridSize(batchInputSize(members), model.config.inputSizePx);
    if (batch !== group.length || rows !== expectedRows || cols !== expectedCols) {
      throw new Error(
        `proposeMasks: model.predictDenseScores returned scoreLogits of shape [${scoreLogits.shape}] for ` +
          `an input of ${group.length} images; expected [${group.length}, ${expectedRows}, ${expectedCols}] ` +
          '(stride 16)',
      );
    }
    const scores = await scoreLogits.data();
    timings.denseMs += performance.now() - t;
    t = performance.now();
    const results = members.map((g, b) => {
      const own = new Float32Array(g.rows * g.cols);
      for (let i = 0; i < g.rows; i++) {
        own.set(scores.subarray((b * rows + i) * cols, (b * rows + i) * cols + g.cols), i * g.cols);
      }
      const candidates = Array.from(topIndices(own, topN), (cell) => ({
        scaleIndex: group[b],
        row: Math.floor(cell / g.cols),
        col: cell % g.cols,
        scoreLogit: own[cell],
      }));
      return { scoreLogits: own, candidates };
    });
    timings.rankMs += performance.now() - t;
    return { maskFeatures, results };
  } catch (error) {
    maskFeatures.dispose();
    throw error;
  } finally {
    scoreLogits.dispose();
  }
}

/**
 * The mask embeddings of `best`, in its order: [best.length, E]. Each scale batch embeds its own chosen
 * cells in one `embedCells` call (the model bounds its memory); the rows are then put in ranking order.
 */
function embedBest(model: DenseMaskModel, batches: readonly ScaleBatch[], best: readonly Candidate[]) {
  const where = new Map<number, { batch: number; image: number }>();
  batches.forEach(({ group }, batch) => {
    group.forEach((scaleIndex, image) => {
      where.set(scaleIndex, { batch, image });
    });
  });
  const order = new Int32Array(best.length);
  return tf.tidy(() => {
    const parts: tf.Tensor2D[] = [];
    let offset = 0;
    batches.forEach(({ maskFeatures }, batch) => {
      const chosen = best.flatMap((c, k) => (where.get(c.scaleIndex)!.batch === batch ? [k] : []));
      if (chosen.length === 0) return;
      const cells = chosen.map((k) => ({
        batch: where.get(best[k].scaleIndex)!.image,
        row: best[k].row,
        col: best[k].col,
      }));
      const embedded = model.embedCells(maskFeatures, cells);
      if (embedded.rank !== 2 || embedded.shape[0] !== cells.length) {
        throw new Error(
          `proposeMasks: model.embedCells returned shape [${embedded.shape}] for ${cells.length} cells; ` +
            `expected [${cells.length}, E]`,
        );
      }
      parts.push(embedded);
      chosen.forEach((k, m) => {
        order[k] = offset + m;
      });
      offset += chosen.length;
    });
    const all = parts.length === 1 ? parts[0] : (tf.concat(parts, 0) as tf.Tensor2D);
    return tf.gather(all, tf.tensor1d(order, 'int32')) as tf.Tensor2D;
  });
}

/** Mask logits of rows `from .. from + count - 1` of `embeddings`: [count * oSz * oSz]. */
async function decodeChunk(model: DenseMaskModel, embeddings: tf.Tensor2D, from: number, count: number) {
  const logits = tf.tidy(() => model.decodeMasks(tf.slice(embeddings, [from, 0], [count, -1])));
  try {
    const size = model.config.maskSizePx;
    if (logits.shape[0] !== count || logits.shape[1] !== size || logits.shape[2] !== size) {
      throw new Error(
        `proposeMasks: model.decodeMasks returned shape [${logits.shape}]; expected [${count}, ${size}, ${size}]`,
      );
    }
    return (await logits.data()) as Float32Array;
  } finally {
    logits.dispose();
  }
}

function pasteCandidate(
  candidate: Candidate,
  logits: Float32Array,
  k: number,
  size: number,
  { geometries, height, width, logitThreshold, keep }: DecodeContext,
): Proposal | null {
  const geometry = geometries[candidate.scaleIndex];
  const { x, y, patchBox } = cellToImage(geometry, candidate.row, candidate.col);
  const own = logits.subarray(k * size * size, (k + 1) * size * size);
  const rle = pasteMaskLogits(own, size, patchBox, logitThreshold, height, width);
  if (rleArea(rle) === 0) return null;
  const proposal: Proposal = {
    score: sigmoid(candidate.scoreLogit),
    bbox: rleToBbox(rle) as [number, number, number, number],
    rle,
    scale: geometry.scale,
    x,
    y,
    patchBox,
  };
  if (keep) proposal.maskLogits = own.slice();
  return proposal;
}

function scoreMap(scoreLogits: Float32Array, g: ScaleGeometry): ScoreMap {
  return {
    scale: g.scale,
    rows: g.rows,
    cols: g.cols,
    probabilities: scoreLogits.map(sigmoid),
    cellSizePx: [16 / g.scaleX, 16 / g.scaleY],
  };
}

function sigmoid(logit: number): number {
  return 1 / (1 + Math.exp(-logit));
}
