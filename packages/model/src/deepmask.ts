import * as tf from '@tensorflow/tfjs-core';
import { type DeepMaskConfig, featureSizeOf, STRIDE_PX, validateConfig } from './config.js';
import { checkCells, type DenseCell } from './dense-cells.js';
import { buildHeads, type DenseOutputs, type DenseScores, type Heads, type PatchOutputs } from './heads.js';
import { saveWeights, type UrlOrHandler } from './io.js';
import { type BuiltLayers, buildLayers } from './layers.js';
import { type ModelSummary, summarize } from './summary.js';
import { trunkSpecs } from './trunks.js';
import { WeightStore } from './weights.js';

export type { DenseCell, DenseOutputs, DenseScores, PatchOutputs };

export interface PredictOptions {
  /** Dropout on (the score branch); off by default. */
  training?: boolean;
}

/** DeepMask: a trunk at stride 16 and the mask and score heads, over one set of named variables. */
export class DeepMask {
  readonly config: DeepMaskConfig;
  /** Trainable variables in a stable order (trunk, mask, score as built). */
  readonly trainableVariables: tf.Variable[];
  /** @internal every weight by its file name, frozen ones included (used by save/load and imports). */
  readonly weights: WeightStore;
  private readonly trunk: BuiltLayers;
  private readonly heads: Heads;

  /** @internal use `createDeepMask` or `loadDeepMask`. */
  constructor(config: DeepMaskConfig, seed: number) {
    validateConfig(config, 'createDeepMask');
    this.config = structuredClone(config);
    this.weights = new WeightStore(seed);
    const size = config.inputSizePx;
    this.trunk = buildLayers(trunkSpecs(config), this.weights, 'trunk', 'trunk', [size, size, 3]);
    const f = featureSizeOf(config);
    const [h, w] = this.trunk.outShape;
    if (h !== f || w !== f) {
      throw new Error(
        `createDeepMask: the ${config.trunk} trunk maps ${size} px to ${h}x${w}, expected ${f}x${f} (stride 16)`,
      );
    }
    this.heads = buildHeads(this.weights, config, this.trunk.outShape);
    this.trainableVariables = this.weights.entries.filter((e) => e.trainable).map((e) => e.variable);
  }

  /**
   * Raw 0..255 RGB -> the trunk's input scale, `x / pixelStd - pixelMean / pixelStd` per channel, as a batch
   * norm with a zero mean and unit variance (one kernel, made once per model): on wasm,
   * `@deepmask/wasm-training`'s one pass of a multiply and an add (the tiny model's training batch of 32 x 64
   * x 64 in 0.06 ms on two threads, where a channel Multiply and Add took 0.27 and 0.31, a 1x1 convolution
   * with a diagonal filter 0.9-2.1 and wasm's own broadcasting Multiply and Add 4.2); elsewhere the backend's
   * batch norm.
   */
  private normalise(pixels: tf.Tensor4D): tf.Tensor4D {
    const { pixelMean, pixelStd } = this.config;
    const [zeros, ones, scale, offset] = (
      [
        ['normalisation mean', () => [0, 0, 0]],
        ['normalisation variance', () => [1, 1, 1]],
        ['normalisation scale', () => pixelStd.map((s) => 1 / s)],
        ['normalisation offset', () => pixelMean.map((m, c) => -m / pixelStd[c])],
      ] as const
    ).map(([key, values]) => this.weights.derived(key, [], () => tf.tensor1d(values())) as tf.Tensor1D);
    const x = pixels.dtype === 'float32' ? pixels : tf.cast(pixels, 'float32');
    return tf.batchNorm(x, zeros, ones, offset, scale, 0);
  }

  /** @internal images [B, H, W, 3] raw pixels -> trunk features [B, h, w, C] (tests compare imported trunks). */
  trunkFeatures(images: tf.Tensor4D): tf.Tensor4D {
    return tf.tidy(() => this.trunk.apply(this.normalise(images)));
  }

  /** patches [N, iSz, iSz, 3] raw pixels -> mask logits [N, oSz, oSz] and score logits [N]. */
  predictPatches(patches: tf.Tensor4D, options: PredictOptions = {}): PatchOutputs {
    const size = this.config.inputSizePx;
    const [, h, w, c] = patches.shape;
    if (patches.rank !== 4 || h !== size || w !== size || c !== 3) {
      throw new Error(`predictPatches: patches must be [N, ${size}, ${size}, 3]; got [${patches.shape}]`);
    }
    return tf.tidy(() =>
      this.heads.patch(this.trunk.apply(this.normalise(patches)), options.training === true),
    );
  }

  /**
   * images [B, H, W, 3] raw pixels -> one embedding and one score logit per 16 px: cell (i, j) is the patch
   * whose top-left pixel is (16 j, 16 i); the grid is (floor(H/16) - F + 1) x (floor(W/16) - F + 1).
   * The same as `predictDenseScores` and `embedCells` at every cell.
   */
  predictDense(images: tf.Tensor4D): DenseOutputs {
    return tf.tidy(() => this.heads.dense(this.denseFeatures(images, 'predictDense')));
  }

  /**
   * images [B, H, W, 3] raw pixels -> the score logits of the dense grid (as `predictDense`) and the
   * features that `embedCells` turns into the mask embedding of any cell: the first step of a dense pass
   * that embeds only the cells it keeps. maskFeatures is `[B, h + F - 1, w + F - 1, reducedChannels]` for
   * 'paper' heads (the 1x1 conv's output: each cell reads its F x F window) and the embeddings
   * `[B, h, w, embeddingSize]` themselves for 'shared' heads (the score reads them at every cell anyway).
   */
  predictDenseScores(images: tf.Tensor4D): DenseScores {
    return tf.tidy(() => this.heads.denseScores(this.denseFeatures(images, 'predictDenseScores')));
  }

  /**
   * maskFeatures of `predictDenseScores` -> the mask embeddings `[K, E]` of `cells`, in their order: equal to
   * `predictDense`'s maskEmbedding at those cells. Reads maskFeatures once (a download on GPU backends) and
   * multiplies their windows in chunks of at most 64 MiB (`WINDOW_CHUNK_BYTES`).
   */
  embedCells(maskFeatures: tf.Tensor4D, cells: readonly DenseCell[]): tf.Tensor2D {
    const { channels, window } = this.heads.maskFeatures;
    const [batch, height, width, c] = maskFeatures.shape;
    if (maskFeatures.rank !== 4 || c !== channels || height < window || width < window) {
      throw new Error(
        `embedCells: maskFeatures must be [B, h, w, ${channels}] with h, w >= ${window} ` +
          `(from predictDenseScores); got [${maskFeatures.shape}]`,
      );
    }
    checkCells(cells, [batch, height - window + 1, width - window + 1], 'embedCells');
    if (cells.length === 0) return tf.zeros([0, this.config.embeddingSize]);
    return tf.tidy(() => this.heads.embedCells(maskFeatures, cells));
  }

  /** Checked images -> trunk features cropped to the whole 16-px cells (call inside a tidy). */
  private denseFeatures(images: tf.Tensor4D, where: string): tf.Tensor4D {
    const size = this.config.inputSizePx;
    const [batch, height, width, c] = images.shape;
    if (images.rank !== 4 || c !== 3 || height < size || width < size) {
      throw new Error(`${where}: images must be [B, H, W, 3] with H, W >= ${size}; got [${images.shape}]`);
    }
    const features = this.trunk.apply(this.normalise(images));
    const rows = Math.floor(height / STRIDE_PX);
    const cols = Math.floor(width / STRIDE_PX);
    // 'same'-padded trunks give ceil(H/16) rows; a window over the last partial row is no full patch.
    const [, fh, fw, fc] = features.shape;
    return fh === rows && fw === cols ? features : tf.slice(features, [0, 0, 0, 0], [batch, rows, cols, fc]);
  }

  /** embeddings [K, E] of chosen dense cells -> their mask logits [K, oSz, oSz]. */
  decodeMasks(embedding: tf.Tensor2D): tf.Tensor3D {
    const e = this.config.embeddingSize;
    if (embedding.rank !== 2 || embedding.shape[1] !== e) {
      throw new Error(`decodeMasks: embedding must be [K, ${e}]; got [${embedding.shape}]`);
    }
    return tf.tidy(() => this.heads.decode(embedding));
  }

  summary(): ModelSummary {
    return summarize(this.config, [...this.trunk.rows, ...this.heads.rows]);
  }

  /** Writes `model.json` (config inside) and weights through a tf.io handler or url. */
  save(urlOrHandler: UrlOrHandler): Promise<tf.io.SaveResult> {
    return saveWeights(this.config, this.weights, urlOrHandler);
  }

  dispose(): void {
    this.weights.dispose();
  }
}

export interface CreateOptions {
  /** Seed of the initial weights (same seed and config, same weights). */
  seed?: number;
}

export function createDeepMask(config: DeepMaskConfig, options: CreateOptions = {}): DeepMask {
  return new DeepMask(config, options.seed ?? 1);
}
