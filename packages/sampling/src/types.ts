/** A decoded image: row-major RGB, 3 bytes a pixel, in the file's stored orientation. */
export interface RgbImage {
  width: number;
  height: number;
  data: Uint8Array;
  /** The `DecodeOptions.shrink` the decoder applied (absent: 1, the full size). */
  shrink?: number;
}

export interface DecodeOptions {
  /**
   * Decode at ceil(width / shrink) x ceil(height / shrink) (shrink: 1, 2, 4 or 8), for patches that
   * sample the image that coarsely: JPEG decoders do it for a fraction of the cost, and the smaller
   * image is an anti-aliased source. A decoder may ignore it and return the full size.
   */
  shrink?: number;
}

/** Turns an encoded image file (JPEG, PNG, ...) into RGB; `name` is for error messages. */
export interface ImageDecoder {
  decode(bytes: Uint8Array, name: string, options?: DecodeOptions): Promise<RgbImage>;
}

/** Reads an image file by its `file_name` in the instances file. */
export interface ImageSource {
  read(fileName: string): Promise<Uint8Array>;
}

/** Where one patch of a batch came from. */
export interface PatchInfo {
  /** +1: an object is centred at the canonical scale; -1: no object is. */
  label: 1 | -1;
  imageId: number;
  fileName: string;
  /** The centred object of a positive; null for a negative. */
  annotationId: number | null;
  categoryId: number | null;
  /** Patch centre in image pixels (continuous coordinates: pixel (0, 0) spans [0, 1) x [0, 1)). */
  centreX: number;
  centreY: number;
  /** Patch pixels per image pixel. */
  scale: number;
  /** Mirrored left to right (about the patch centre). */
  flipped: boolean;
}

export type BatchHeads = 'joint' | 'mask' | 'score';

/** One training batch; every array is row-major, N = `labels.length`. */
export interface PatchBatch {
  /** [N, iSz, iSz, 3] raw RGB values 0..255 (the model normalises). */
  patches: Float32Array;
  /** [N, L, L] +1 inside the centred object, -1 elsewhere; all -1 for negatives. */
  maskTargets: Float32Array;
  /** [N] +1 / -1. */
  labels: Float32Array;
  /** The heads this batch trains ('joint' for mixed batches; 'mask' or 'score' for alternating ones). */
  heads: BatchHeads;
  samples: PatchInfo[];
}

export interface SamplingWarning {
  kind: 'unusable-annotation' | 'bad-image';
  message: string;
  annotationId?: number;
  fileName?: string;
}
