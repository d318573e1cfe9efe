import type { Box, CocoAnnotation, CocoDataset, CocoImage } from '@deepmask/coco';
import { assertIndex } from './assert-index.js';
import { type Rgb, resolveSamplingConfig, type SamplingConfig, type SamplingConfigInput } from './config.js';
import { cropPatch } from './crop.js';
import { negativePlacement, type PatchPlacement, positivePlacement } from './geometry.js';
import { fileNameOf, ImageStore, shrinkFor } from './image-store.js';
import { maskTarget } from './mask-target.js';
import { estimateMeanColour } from './mean-colour.js';
import { PositiveObjects } from './objects.js';
import { prefetchInOrder } from './prefetch.js';
import { type Random, randomStream } from './random.js';
import type {
  BatchHeads,
  ImageDecoder,
  ImageSource,
  PatchBatch,
  PatchInfo,
  RgbImage,
  SamplingWarning,
} from './types.js';

export interface SamplerOptions {
  dataset: CocoDataset;
  images: ImageSource;
  decoder: ImageDecoder;
  config: SamplingConfigInput;
  /** A non-negative integer: with the batch index, it decides every draw. */
  seed: number;
}

export interface PatchSampler {
  /** The complete config (defaults filled in): save it with a run. */
  readonly config: SamplingConfig;
  readonly seed: number;
  /** Annotations and images left out, each reported once. */
  readonly warnings: readonly SamplingWarning[];
  /** Batch `index`: a pure function of (seed, index, data), so a run resumes from its batch index. */
  batch(index: number): Promise<PatchBatch>;
  /** Batches fromIndex, fromIndex + 1, ... in order, with `depth` of them in preparation at any time. */
  prefetch(fromIndex?: number, depth?: number): AsyncGenerator<PatchBatch, never, undefined>;
  /** The padding colour (the config's, or estimated from the dataset on first use). */
  meanColour(): Promise<Rgb>;
}

/** Draws per patch before giving up on finding a readable image. */
const MAX_DRAWS = 100;

interface Draw {
  image: CocoImage;
  rgb: RgbImage;
  placement: PatchPlacement;
  object: CocoAnnotation | null;
}

/** A sampler of DeepMask training batches from a COCO-format dataset (see the package README). */
export function createSampler(options: SamplerOptions): PatchSampler {
  assertIndex(options.seed, 'seed');
  return new Sampler(options, resolveSamplingConfig(options.config));
}

class Sampler implements PatchSampler {
  readonly seed: number;
  readonly warnings: SamplingWarning[] = [];
  private readonly dataset: CocoDataset;
  private readonly objects: PositiveObjects;
  private readonly store: ImageStore;
  private readonly boxesByImage = new Map<number, Box[]>();
  private readonly badImages = new Set<number>();
  private mean: Promise<Rgb> | undefined;

  constructor(
    options: SamplerOptions,
    readonly config: SamplingConfig,
  ) {
    this.seed = options.seed;
    this.dataset = options.dataset;
    this.objects = new PositiveObjects(options.dataset, config, (warning) => this.warnings.push(warning));
    this.store = new ImageStore(options.images, options.decoder, config.cacheBytes);
    // Callers pass these around on their own (`batches.map(sampler.batch)`, a trainer's data hook).
    this.batch = this.batch.bind(this);
    this.prefetch = this.prefetch.bind(this);
    this.meanColour = this.meanColour.bind(this);
  }

  meanColour(): Promise<Rgb> {
    const { meanColour, meanColourImages, maxDecodeShrink } = this.config;
    this.mean ??=
      meanColour !== null
        ? Promise.resolve(meanColour)
        : estimateMeanColour(this.dataset.images, meanColourImages, (image) =>
            this.load(image, maxDecodeShrink),
          );
    return this.mean;
  }

  async batch(index: number): Promise<PatchBatch> {
    assertIndex(index, 'batch index');
    const { heads, labels } = composeBatch(this.config, randomStream(this.seed, index, 0));
    const { inputSizePx, labelSizePx } = this.config;
    const patchLength = inputSizePx * inputSizePx * 3;
    const targetLength = labelSizePx * labelSizePx;
    const batch: PatchBatch = {
      patches: new Float32Array(labels.length * patchLength),
      maskTargets: new Float32Array(labels.length * targetLength).fill(-1),
      labels: Float32Array.from(labels),
      heads,
      samples: new Array(labels.length),
    };
    const mean = await this.meanColour();
    await Promise.all(
      labels.map(async (label, k) => {
        const { image, rgb, placement, object } = await this.draw(
          label,
          randomStream(this.seed, index, k + 1),
        );
        cropPatch(
          rgb,
          image.width,
          image.height,
          placement,
          inputSizePx,
          mean,
          batch.patches,
          k * patchLength,
        );
        if (object !== null) {
          const rle = this.dataset.annotationRle(object);
          maskTarget(rle, placement, inputSizePx, labelSizePx, batch.maskTargets, k * targetLength);
        }
        batch.samples[k] = {
          label,
          imageId: image.id,
          fileName: fileNameOf(image),
          annotationId: object?.id ?? null,
          categoryId: object?.category_id ?? null,
          ...placement,
        } satisfies PatchInfo;
      }),
    );
    return batch;
  }

  prefetch(fromIndex = 0, depth = 2): AsyncGenerator<PatchBatch, never, undefined> {
    return prefetchInOrder(this.batch, fromIndex, depth);
  }

  /** A placement with its decoded image; images found bad are drawn again when they are skipped. */
  private async draw(label: 1 | -1, random: Random): Promise<Draw> {
    for (let attempt = 0; attempt < MAX_DRAWS; attempt++) {
      const drawn = label === 1 ? this.drawPositive(random) : this.drawNegative(random);
      if (drawn === null) continue;
      const rgb = await this.load(drawn.image, shrinkFor(drawn.placement.scale, this.config.maxDecodeShrink));
      if (rgb !== null) return { ...drawn, rgb };
    }
    const kind = label === 1 ? 'positive' : 'negative';
    throw new Error(`sampling: no ${kind} found in ${MAX_DRAWS} draws (images unreadable, or too crowded)`);
  }

  private drawPositive(random: Random): Omit<Draw, 'rgb'> {
    const object = this.objects.choose(this.config.objectChoice, random);
    const placement = positivePlacement(object.bbox, this.config, random);
    return { image: this.dataset.image(object.image_id), object, placement };
  }

  /** Null when the image drawn is too crowded for a negative. */
  private drawNegative(random: Random): Omit<Draw, 'rgb'> | null {
    const image = this.dataset.images[random.int(this.dataset.images.length)];
    const placement = negativePlacement(
      image.width,
      image.height,
      this.boxesOf(image.id),
      this.config,
      random,
    );
    return placement === null ? null : { image, object: null, placement };
  }

  /** Boxes of every annotation of the image, crowd ones included: the objects a negative avoids. */
  private boxesOf(imageId: number): Box[] {
    let boxes = this.boxesByImage.get(imageId);
    if (boxes === undefined) {
      boxes = this.dataset.annotationsOf(imageId).map((annotation) => annotation.bbox);
      this.boxesByImage.set(imageId, boxes);
    }
    return boxes;
  }

  /** The image (at 1/shrink if the decoder can), or null when it is bad and bad images are skipped. */
  private async load(image: CocoImage, shrink: number): Promise<RgbImage | null> {
    try {
      return await this.store.get(image, shrink);
    } catch (error) {
      if (this.config.onBadImage === 'error') throw error;
      if (!this.badImages.has(image.id)) {
        this.badImages.add(image.id);
        const message = `${(error as Error).message}; image skipped`;
        this.warnings.push({ kind: 'bad-image', message, fileName: image.file_name });
      }
      return null;
    }
  }
}

/** Heads and labels of one batch: mixed (each patch positive with positiveFraction) or alternating. */
function composeBatch(config: SamplingConfig, random: Random): { heads: BatchHeads; labels: (1 | -1)[] } {
  const mixed = (): (1 | -1)[] =>
    Array.from({ length: config.batchSize }, () => (random.chance(config.positiveFraction) ? 1 : -1));
  if (config.batchMode === 'mixed') return { heads: 'joint', labels: mixed() };
  if (random.chance(config.maskBatchProbability)) {
    return { heads: 'mask', labels: new Array(config.batchSize).fill(1) };
  }
  return { heads: 'score', labels: mixed() };
}
