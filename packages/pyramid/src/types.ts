import type { Rle } from '@deepmask/coco';
import type * as tf from '@tensorflow/tfjs-core';

/** One cell of a dense score grid: image `batch` of the forward pass, `row` and `col` of its grid. */
export interface DenseCell {
  batch: number;
  row: number;
  col: number;
}

/**
 * What the pyramid needs of a DeepMask model: its dense scores, the mask embedding of chosen cells and the
 * mask decoder (`@deepmask/model`'s `DeepMask` satisfies it).
 */
export interface DenseMaskModel {
  readonly config: {
    /** Patch side `iSz`, a multiple of the stride. */
    readonly inputSizePx: number;
    /** Mask side `oSz`; the mask covers the whole patch. */
    readonly maskSizePx: number;
    /** Per-channel RGB mean (0..255): the padding's colour, which the model normalises to zero. */
    readonly pixelMean: readonly number[];
  };
  /** images [B, H, W, 3] -> score logits [B, h, w] (stride 16) and whatever `embedCells` reads. */
  predictDenseScores(images: tf.Tensor4D): { scoreLogits: tf.Tensor3D; maskFeatures: tf.Tensor4D };
  /** maskFeatures of one `predictDenseScores` call -> the mask embeddings [K, E] of `cells`, in order. */
  embedCells(maskFeatures: tf.Tensor4D, cells: readonly DenseCell[]): tf.Tensor2D;
  /** embeddings [K, E] -> mask logits [K, oSz, oSz]. */
  decodeMasks(embedding: tf.Tensor2D): tf.Tensor3D;
}

/** Scales as a list, or as a log2 range `minLog2 .. maxLog2` in steps of `stepLog2`. */
export type ScaleOption = readonly number[] | { minLog2: number; maxLog2: number; stepLog2: number };

/** How scales share one forward pass; `false` runs them one at a time. */
export type ScaleBatching =
  | false
  | {
      /** Budget of one batch: batch size times the common padded height and width. */
      maxPixels: number;
      /** Largest share of a batch's pixels that may be padding to the common size. */
      maxPaddingFraction: number;
    };

export interface ProposeOptions {
  scales?: ScaleOption;
  /** How many (scale, location) candidates are decoded into masks. */
  topN?: number;
  /** Probability above which a mask pixel is on. */
  maskThreshold?: number;
  /** Keep each proposal's `oSz x oSz` mask logits so that `pasteMask` can re-threshold it. */
  keepMaskLogits?: boolean;
  /** Return the score map (probabilities) of every scale. */
  scoreMaps?: boolean;
  scaleBatching?: ScaleBatching;
  /** Masks decoded per `decodeMasks` call. */
  decodeBatchSize?: number;
  /**
   * Called after each batch of scales and each chunk of decoded masks; awaited, so that a page can
   * repaint between the steps.
   */
  onProgress?: (progress: ProposeProgress) => void | Promise<void>;
}

/** How far `proposeMasks` is: `done` of `total` scales ('dense') or top-N candidates ('decode'). */
export interface ProposeProgress {
  stage: 'dense' | 'decode';
  done: number;
  total: number;
}

export interface Proposal {
  /** Objectness probability. */
  score: number;
  /** Box of the mask, `[x, y, width, height]` in image pixels. */
  bbox: [number, number, number, number];
  rle: Rle;
  scale: number;
  /** Patch centre in image pixels. */
  x: number;
  y: number;
  /** The patch (which the mask covers) in image pixels, `[x, y, width, height]`. */
  patchBox: [number, number, number, number];
  /** `oSz x oSz` row-major logits, present with `keepMaskLogits`. */
  maskLogits?: Float32Array;
}

export interface ScoreMap {
  scale: number;
  rows: number;
  cols: number;
  /** Row-major probabilities; cell `(i, j)` is centred at image pixel `(j * cellSizePx[0], i * cellSizePx[1])`. */
  probabilities: Float32Array;
  /** Image pixels between neighbouring cells, `[x, y]`. */
  cellSizePx: [number, number];
}

/** Milliseconds per stage. */
export interface ProposeTimings {
  /**
   * Resizing, padding and `predictDenseScores` at every scale: the trunk, the score branch and the mask
   * features (for 'paper' heads the 1x1 conv; for 'shared' heads the dense embedding), until the scores
   * are read.
   */
  denseMs: number;
  /** Each scale's best `topN` cells, then all (scale, location) candidates ranked together. */
  rankMs: number;
  /** `embedCells` of the top N (the F x F mask linear at those cells only), in ranking order. */
  embedMs: number;
  /** `decodeMasks` of the top N, until the logits are read. */
  decodeMs: number;
  /** Resizing, pasting, thresholding and encoding the masks. */
  pasteMs: number;
  totalMs: number;
}

export interface ProposeResult {
  proposals: Proposal[];
  timings: ProposeTimings;
  scoreMaps?: ScoreMap[];
}
