import type { CocoImage } from '@deepmask/coco';
import { colorOf } from './colors.js';
import { imageFileOf, type OpenedDataset, openDatasetFiles } from './datasetFiles.js';
import { el, fileInput, labelled } from './dom.js';
import { reportingErrors } from './errors.js';
import { decodeImage, type LoadedImage } from './image.js';
import { drawScene, type MaskLayer } from './overlay.js';
import { renderBatch, sampleBatch } from './patches.js';

const LISTED_IMAGES = 1000;

export interface DatasetViewHooks {
  /** A dataset was opened: the evaluation view takes it as its ground truth. */
  onDataset(opened: OpenedDataset): void;
  /** "Open in proposals" on the selected image. */
  onUseImage(image: LoadedImage): void;
}

export function createDatasetView(hooks: DatasetViewHooks): HTMLElement {
  const files = fileInput('dataset-files', { accept: '.json,image/*', multiple: true });
  const folder = fileInput('dataset-folder', { folder: true, multiple: true });
  const jsonChoice = el('select', { id: 'dataset-json' });
  const summary = el('span', { id: 'dataset-summary', class: 'muted', text: 'no dataset' });
  const imageList = el('div', { id: 'dataset-images', class: 'list' });
  const scene = el('canvas', { id: 'dataset-scene', class: 'scene', width: 640, height: 480 });
  const annotations = el('div', { id: 'dataset-annotations', class: 'list' });
  const useImage = el('button', { id: 'dataset-to-proposals', text: 'Open in Proposals', disabled: true });
  const patchSize = el('input', {
    id: 'patch-size',
    type: 'number',
    min: 32,
    max: 224,
    step: 32,
    value: 160,
  });
  const sample = el('button', { id: 'dataset-sample', text: 'Sample training patches', disabled: true });
  const sampleStatus = el('span', { id: 'sample-status', class: 'muted' });
  const patches = el('div', { id: 'patches', class: 'grid' });

  let opened: OpenedDataset | null = null;
  let picked: File[] = [];
  let shown: LoadedImage | null = null;
  let seed = 1;

  async function open(chosenJson?: string): Promise<void> {
    const result = await reportingErrors('Opening the dataset failed', () =>
      openDatasetFiles(picked, chosenJson),
    );
    if (!result) return;
    opened = result;
    jsonChoice.replaceChildren(
      ...result.jsonFiles.map((file) =>
        el('option', { value: file.name, text: file.name, selected: file.name === result.jsonName }),
      ),
    );
    const { dataset } = result;
    const present = dataset.images.filter((image) => imageFileOf(result, image.file_name));
    summary.textContent =
      `${result.jsonName}: ${dataset.images.length} images (${present.length} picked), ` +
      `${dataset.annotations.length} objects, ${dataset.categories.length} categories`;
    imageList.replaceChildren(
      ...present.slice(0, LISTED_IMAGES).map((image) => {
        const row = el('div', { 'data-image-id': image.id, text: image.file_name ?? String(image.id) });
        row.addEventListener('click', () => void select(image, row));
        return row;
      }),
    );
    sample.disabled = present.length === 0;
    hooks.onDataset(result);
  }

  async function select(image: CocoImage, row: HTMLElement): Promise<void> {
    if (!opened) return;
    const { dataset } = opened;
    const file = imageFileOf(opened, image.file_name)!;
    const decoded = await reportingErrors('Opening the image failed', () => decodeImage(file, file.name));
    if (!decoded) return;
    shown = decoded;
    for (const other of imageList.children) other.classList.toggle('selected', other === row);
    const categoryName = (id: number) =>
      dataset.categories.find((c) => c.id === id)?.name ?? `category ${id}`;
    const objects = dataset.annotationsOf(image.id).filter((a) => a.segmentation !== undefined);
    const layers: MaskLayer[] = objects.map((annotation) => ({
      rle: dataset.annotationRle(annotation),
      color: colorOf(dataset.categoryIds.indexOf(annotation.category_id)),
      bbox: annotation.bbox,
      label: categoryName(annotation.category_id) + (annotation.iscrowd ? ' (crowd)' : ''),
    }));
    drawScene(scene, decoded.pixels, layers, 0.45);
    annotations.replaceChildren(
      ...objects.map((annotation) =>
        el('div', {
          text: `#${annotation.id} ${categoryName(annotation.category_id)} · area ${Math.round(annotation.area)}${annotation.iscrowd ? ' · crowd' : ''}`,
        }),
      ),
    );
    useImage.disabled = false;
  }

  async function samplePatches(): Promise<void> {
    if (!opened) return;
    const inputSizePx = Number(patchSize.value);
    sampleStatus.textContent = 'sampling…';
    const current = opened;
    const batch = await reportingErrors('Sampling patches failed', () =>
      sampleBatch({
        dataset: current.dataset,
        imageFiles: current.imageFiles,
        inputSizePx,
        batchSize: 16,
        seed: seed++,
      }),
    );
    if (!batch) {
      sampleStatus.textContent = 'failed';
      return;
    }
    renderBatch(patches, batch, inputSizePx);
    const positives = [...batch.labels].filter((label) => label > 0).length;
    sampleStatus.textContent = `${positives} positives, ${batch.labels.length - positives} negatives (green: mask target)`;
  }

  const pick = (input: HTMLInputElement) => () => {
    picked = [...(input.files ?? [])];
    if (picked.length > 0) void open();
  };
  files.addEventListener('change', pick(files));
  folder.addEventListener('change', pick(folder));
  jsonChoice.addEventListener('change', () => void open(jsonChoice.value));
  useImage.addEventListener('click', () => shown && hooks.onUseImage(shown));
  sample.addEventListener('click', () => void samplePatches());

  return el('section', { id: 'view-dataset' }, [
    el('fieldset', {}, [
      el('legend', { text: 'COCO dataset' }),
      labelled('folder', folder),
      labelled('or files (instances .json + images)', files),
      labelled('instances file', jsonChoice),
      summary,
    ]),
    el('div', { class: 'row' }, [imageList, scene, el('div', {}, [useImage, annotations])]),
    el('fieldset', {}, [
      el('legend', { text: 'Training patches' }),
      labelled('patch size', patchSize),
      sample,
      sampleStatus,
    ]),
    patches,
  ]);
}
