import type { CocoAnnotation, CocoDataset, CocoImage } from '@deepmask/coco';
import { type Rgb, resolveSamplingConfig, type SamplingConfig, type SamplingConfigInput } from './config.js';
import { cropPatch } from './crop.js';
import { type Box, negativePlacement, type PatchPlacement, positivePlacement } from './geometry.js';
import { fileNameOf, ImageStore } from './image-store.js';
import { maskTarget } from './mask-target.js';
import { estimateMeanColour } from './mean-colour.js';
import { PositiveObjects } from './objects.js';
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

function assertIndex(value: number, name: string): void {
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new RangeError(`sampling: ${name} must be a non-negative integer, got ${value}`);
  }
}

/** A sampler of DeepMask training batches from a COCO-format dataset (see the package README). */
export function createSampler(options: SamplerOptions): PatchSampler {
  const { dataset, seed } = options;
  assertIndex(seed, 'seed');
  const config = resolveSamplingConfig(options.config);
  const warnings: SamplingWarning[] = [];
  const objects = new PositiveObjects(dataset, config, (warning) => warnings.push(warning));
  const store = new ImageStore(options.images, options.decoder, config.cacheBytes);
  const boxesByImage = new Map<number, Box[]>();
  const badImages = new Set<number>();

  const boxesOf = (imageId: number): Box[] => {
    let boxes = boxesByImage.get(imageId);
    if (boxes === undefined) {
      boxes = dataset.annotationsOf(imageId).map((annotation) => annotation.bbox);
      boxesByImage.set(imageId, boxes);
    }
    return boxes;
  };

  /** The image, or null when it is bad and the config says to skip bad images. */
  const loadImage = async (image: CocoImage): Promise<RgbImage | null> => {
    try {
      return await store.get(image);
    } catch (error) {
      if (config.onBadImage === 'error') throw error;
      if (!badImages.has(image.id)) {
        badImages.add(image.id);
        const message = `${(error as Error).message}; image skipped`;
        warnings.push({ kind: 'bad-image', message, fileName: image.file_name });
      }
      return null;
    }
  };

  let meanColour: Promise<Rgb> | undefined;
  const getMeanColour = (): Promise<Rgb> => {
    meanColour ??=
      config.meanColour !== null
        ? Promise.resolve(config.meanColour)
        : estimateMeanColour(dataset.images, config.meanColourImages, loadImage);
    return meanColour;
  };

  const drawPlacement = (label: 1 | -1, random: Random): Omit<Draw, 'rgb'> | null => {
    if (label === 1) {
      const object = objects.choose(config.objectChoice, random);
      return {
        image: dataset.image(object.image_id),
        object,
        placement: positivePlacement(object.bbox, config, random),
      };
    }
    const image = dataset.images[random.int(dataset.images.length)];
    const placement = negativePlacement(image.width, image.height, boxesOf(image.id), config, random);
    return placement === null ? null : { image, object: null, placement };
  };

  const draw = async (label: 1 | -1, random: Random): Promise<Draw> => {
    for (let attempt = 0; attempt < MAX_DRAWS; attempt++) {
      const drawn = drawPlacement(label, random);
      if (drawn === null) continue;
      const rgb = await loadImage(drawn.image);
      if (rgb !== null) return { ...drawn, rgb };
    }
    const kind = label === 1 ? 'positive' : 'negative';
    throw new Error(`sampling: no ${kind} found in ${MAX_DRAWS} draws (images unreadable, or too crowded)`);
  };

  const batch = async (index: number): Promise<PatchBatch> => {
    assertIndex(index, 'batch index');
    const { heads, labels } = composeBatch(config, randomStream(seed, index, 0));
    const n = labels.length;
    const { inputSizePx, labelSizePx } = config;
    const patchLength = inputSizePx * inputSizePx * 3;
    const targetLength = labelSizePx * labelSizePx;
    const result: PatchBatch = {
      patches: new Float32Array(n * patchLength),
      maskTargets: new Float32Array(n * targetLength).fill(-1),
      labels: Float32Array.from(labels),
      heads,
      samples: new Array(n),
    };
    const mean = await getMeanColour();
    await Promise.all(
      labels.map(async (label, k) => {
        const { image, rgb, placement, object } = await draw(label, randomStream(seed, index, k + 1));
        cropPatch(rgb, placement, inputSizePx, mean, result.patches, k * patchLength);
        if (object !== null) {
          maskTarget(
            dataset.annotationRle(object),
            placement,
            inputSizePx,
            labelSizePx,
            result.maskTargets,
            k * targetLength,
          );
        }
        result.samples[k] = {
          label,
          imageId: image.id,
          fileName: fileNameOf(image),
          annotationId: object?.id ?? null,
          categoryId: object?.category_id ?? null,
          ...placement,
        } satisfies PatchInfo;
      }),
    );
    return result;
  };

  async function* prefetch(fromIndex = 0, depth = 2): AsyncGenerator<PatchBatch, never, undefined> {
    assertIndex(fromIndex, 'prefetch fromIndex');
    if (!Number.isInteger(depth) || depth < 1)
      throw new RangeError(`sampling: prefetch depth must be >= 1, got ${depth}`);
    const queue: Promise<PatchBatch>[] = [];
    let next = fromIndex;
    while (true) {
      while (queue.length < depth) {
        const pending = batch(next++);
        // A failure surfaces when its batch is awaited, in order, not as an unhandled rejection before.
        pending.catch(() => {});
        queue.push(pending);
      }
      yield await queue.shift()!;
    }
  }

  return { config, seed, warnings, batch, prefetch, meanColour: getMeanColour };
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
