import { CocoDataset } from '@deepmask/coco';
import { createSampler, type PatchBatch } from '@deepmask/sampling';
import { browserDecoder, fileListSource } from '@deepmask/sampling/browser';
import { baseName } from './datasetFiles.js';
import { el } from './dom.js';

export interface PatchSampling {
  dataset: CocoDataset;
  imageFiles: File[];
  inputSizePx: number;
  batchSize: number;
  seed: number;
}

/** One batch of training patches, exactly as the trainer would draw it from this dataset. */
export async function sampleBatch(options: PatchSampling): Promise<PatchBatch> {
  const sampler = createSampler({
    dataset: pickedImagesOnly(options.dataset, options.imageFiles),
    images: fileListSource(options.imageFiles),
    decoder: browserDecoder(),
    config: {
      inputSizePx: options.inputSizePx,
      maskSizePx: options.inputSizePx / 4,
      batchSize: options.batchSize,
      meanColourImages: 2,
      onBadImage: 'skip',
    },
    seed: options.seed,
  });
  return sampler.batch(0);
}

/** The dataset cut to the images picked, so that every draw finds its file. */
function pickedImagesOnly(dataset: CocoDataset, imageFiles: File[]): CocoDataset {
  const names = new Set(imageFiles.map((file) => file.name));
  const images = dataset.images.filter((image) => image.file_name && names.has(baseName(image.file_name)));
  const ids = new Set(images.map((image) => image.id));
  const annotations = dataset.annotations.filter((annotation) => ids.has(annotation.image_id));
  return CocoDataset.fromJson(
    { images, categories: dataset.categories, annotations },
    `${dataset.sourceName} (picked images)`,
  );
}

/** Each patch with its mask target tinted (green inside the object) and its label, positives first. */
export function renderBatch(container: HTMLElement, batch: PatchBatch, inputSizePx: number): void {
  const count = batch.labels.length;
  const labelSize = Math.round(Math.sqrt(batch.maskTargets.length / count));
  const order = [...Array(count).keys()].sort((a, b) => batch.labels[b] - batch.labels[a]);
  container.replaceChildren(
    ...order.map((k) => {
      const canvas = el('canvas', { width: inputSizePx, height: inputSizePx, 'data-label': batch.labels[k] });
      const pixels = new ImageData(inputSizePx, inputSizePx);
      const positive = batch.labels[k] > 0;
      for (let y = 0; y < inputSizePx; y++) {
        for (let x = 0; x < inputSizePx; x++) {
          const p = y * inputSizePx + x;
          const source = (k * inputSizePx * inputSizePx + p) * 3;
          // The target covers the whole patch at L x L: nearest label cell of this pixel.
          const ty = Math.floor((y * labelSize) / inputSizePx);
          const tx = Math.floor((x * labelSize) / inputSizePx);
          const inside = positive && batch.maskTargets[k * labelSize * labelSize + ty * labelSize + tx] > 0;
          const tint = inside ? 0.5 : 0;
          pixels.data[4 * p] = batch.patches[source] * (1 - tint);
          pixels.data[4 * p + 1] = batch.patches[source + 1] * (1 - tint) + 255 * tint;
          pixels.data[4 * p + 2] = batch.patches[source + 2] * (1 - tint);
          pixels.data[4 * p + 3] = 255;
        }
      }
      canvas.getContext('2d')!.putImageData(pixels, 0, 0);
      const info = batch.samples[k];
      const caption = `${positive ? '+1 positive' : '−1 negative'} · ${info?.fileName ?? ''}`;
      return el('figure', { class: positive ? 'patch positive' : 'patch negative' }, [
        canvas,
        el('figcaption', { text: caption }),
      ]);
    }),
  );
}
