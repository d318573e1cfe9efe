import { CocoDataset, type EvaluationResult, evaluate, type ImageEvaluation } from '@deepmask/coco';
import { imageFileOf, type OpenedDataset } from './datasetFiles.js';
import { debugHook } from './debug.js';
import { el, fileInput, formatNumber, labelled } from './dom.js';
import { reportingErrors } from './errors.js';
import { decodeImage } from './image.js';
import { drawScene, type MaskLayer, type Rgb } from './overlay.js';
import { linePlot } from './plot.js';

const FOUND: Rgb = [46, 160, 67];
const MISSED: Rgb = [220, 40, 40];
const CROWD: Rgb = [140, 140, 140];

/** Proposal budgets of the recall-vs-#proposals curve. */
const MAX_DETS = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000];
/** The budgets drawn as recall-vs-IoU curves. */
const CURVE_MAX_DETS = [10, 100, 1000];

export interface EvaluationView {
  section: HTMLElement;
  /** The ground truth; with the dataset view's picked images, a clicked row shows its objects. */
  setGroundTruth(dataset: CocoDataset, opened?: OpenedDataset): void;
}

/**
 * Class-agnostic segm evaluation of a COCO results file against the ground truth, as DeepMask is scored:
 * recall against IoU and against the number of proposals, and per image the objects found at IoU 0.5.
 */
export function createEvaluationView(): EvaluationView {
  const gtInput = fileInput('eval-gt', { accept: '.json' });
  const resultsInput = fileInput('eval-results', { accept: '.json' });
  const iouType = el('select', { id: 'eval-iou-type' }, [
    el('option', { value: 'segm', text: 'masks (segm)' }),
    el('option', { value: 'bbox', text: 'boxes (bbox)' }),
  ]);
  const status = el('span', { id: 'eval-status', class: 'muted', text: 'no ground truth' });
  const summary = el('table', { id: 'eval-summary' });
  const plots = el('div', { id: 'eval-plots', class: 'grid' });
  const allImages = el('input', { id: 'eval-all-images', type: 'checkbox' });
  const images = el('table', { id: 'eval-images' });
  const scene = el('canvas', { id: 'eval-scene', class: 'scene', width: 640, height: 480, hidden: true });

  let groundTruth: CocoDataset | null = null;
  let pickedImages: OpenedDataset | null = null;
  let results: { name: string; json: unknown } | null = null;
  let lastEvaluation: EvaluationResult | null = null;

  function setGroundTruth(dataset: CocoDataset, opened?: OpenedDataset): void {
    groundTruth = dataset;
    pickedImages = opened ?? null;
    status.textContent = `ground truth: ${dataset.sourceName} (${dataset.images.length} images)`;
    void run();
  }

  async function run(): Promise<void> {
    if (!groundTruth || !results) return;
    const gt = groundTruth;
    const current = results;
    status.textContent = `evaluating ${current.name}…`;
    await new Promise((resolve) => setTimeout(resolve, 0));
    const evaluation = await reportingErrors('Evaluating the results failed', async () =>
      evaluate(gt, current.json, {
        iouType: iouType.value as 'segm' | 'bbox',
        useCats: false,
        maxDets: MAX_DETS,
        resultsName: current.name,
      }),
    );
    if (!evaluation) {
      status.textContent = 'evaluation failed';
      return;
    }
    status.textContent = `${current.name} against ${gt.sourceName}`;
    show(gt, evaluation);
  }

  function show(gt: CocoDataset, evaluation: EvaluationResult): void {
    const { iouThrs, maxDets } = evaluation.params;
    const byIou = CURVE_MAX_DETS.filter((m) => maxDets.includes(m)).map((m) => ({
      name: `${m} proposals`,
      points: iouThrs.map((iou, t) => [iou, recallAt(evaluation, t, maxDets.indexOf(m))] as [number, number]),
    }));
    const byCount = [
      {
        name: 'AR (IoU .5:.95)',
        points: maxDets.map((m) => [m, evaluation.extra[`AR@${m}`]] as [number, number]),
      },
      {
        name: 'recall at IoU .5',
        points: maxDets.map((m, i) => [m, recallAt(evaluation, 0, i)] as [number, number]),
      },
    ];
    plots.replaceChildren(
      linePlot(byIou, { title: 'recall vs IoU', xLabel: 'IoU', yLabel: 'recall', yRange: [0, 1] }),
      linePlot(byCount, {
        title: 'recall vs #proposals',
        xLabel: '#proposals',
        yLabel: 'recall',
        yRange: [0, 1],
        logX: true,
      }),
    );
    summary.replaceChildren(
      ...['AR@10', 'AR@100', 'AR@1000', 'AR_small@100', 'AR_medium@100', 'AR_large@100']
        .filter((name) => name in evaluation.extra)
        .map((name) =>
          el('tr', {}, [el('th', { text: name }), el('td', { text: formatNumber(evaluation.extra[name]) })]),
        ),
    );
    lastEvaluation = evaluation;
    renderImages(gt, evaluation.perImage);
    const largest = maxDets.length - 1;
    debugHook.evaluation = {
      extra: { ...evaluation.extra },
      recallByIou: iouThrs.map((iou, t) => [iou, recallAt(evaluation, t, largest)]),
      recallByProposals: byCount[0].points,
    };
  }

  /** One row per image: objects found at IoU 0.5 among the non-crowd ones, then each object. */
  function renderImages(gt: CocoDataset, perImage: ImageEvaluation[]): void {
    const categoryName = new Map(gt.categories.map((c) => [c.id, c.name ?? `category ${c.id}`]));
    const annotationCategory = new Map(gt.annotations.map((a) => [a.id, a.category_id]));
    const rows = perImage
      .filter((entry) => entry.gtIds.length > 0 && (allImages.checked || entry.dtIds.length > 0))
      .map((entry) => {
        const image = gt.image(entry.imageId);
        // Row t = 0 of the [T, G] matrices is IoU 0.5.
        const gtIds = Array.from(entry.gtIds);
        const counted = gtIds.map((_, g) => !entry.gtIsCrowd[g]);
        const found = gtIds.map((_, g) => counted[g] && entry.gtMatches[g] !== 0);
        const objects = gtIds.map((id, g) => {
          const name = categoryName.get(annotationCategory.get(id)!) ?? '';
          const mark = entry.gtIsCrowd[g]
            ? 'crowd'
            : found[g]
              ? `found, IoU ${formatNumber(entry.gtMatchIou[g], 2)}`
              : 'missed';
          return el('span', { class: found[g] ? 'found' : 'missed', text: `#${id} ${name}: ${mark}` });
        });
        const row = el('tr', { 'data-image-id': entry.imageId }, [
          el('td', { text: image.file_name ?? String(image.id) }),
          el('td', { text: `${found.filter(Boolean).length} / ${counted.filter(Boolean).length}` }),
          el(
            'td',
            { class: 'objects' },
            objects.flatMap((o, k) => (k === 0 ? [o] : ['; ', o])),
          ),
        ]);
        row.addEventListener('click', () => void showImage(gt, entry, found, row));
        return row;
      });
    images.replaceChildren(
      el('tr', {}, [
        el('th', { text: 'image' }),
        el('th', { text: 'found at IoU .5' }),
        el('th', { text: 'objects' }),
      ]),
      ...rows,
    );
  }

  /** The image with its objects coloured found (green), missed (red) or crowd (grey). */
  async function showImage(
    gt: CocoDataset,
    entry: ImageEvaluation,
    found: boolean[],
    row: HTMLElement,
  ): Promise<void> {
    const image = gt.image(entry.imageId);
    const file = pickedImages ? imageFileOf(pickedImages, image.file_name) : undefined;
    for (const other of images.children) other.classList.toggle('selected', other === row);
    if (!file) {
      scene.hidden = true;
      return;
    }
    const decoded = await reportingErrors('Opening the image failed', () => decodeImage(file, file.name));
    if (!decoded) return;
    const byId = new Map(gt.annotationsOf(image.id).map((a) => [a.id, a]));
    const layers: MaskLayer[] = Array.from(entry.gtIds, (id, g) => {
      const annotation = byId.get(id)!;
      const color = entry.gtIsCrowd[g] ? CROWD : found[g] ? FOUND : MISSED;
      return { rle: gt.annotationRle(annotation), color, bbox: annotation.bbox };
    });
    drawScene(scene, decoded.pixels, layers, 0.5);
    scene.hidden = false;
  }

  allImages.addEventListener(
    'change',
    () => groundTruth && lastEvaluation && renderImages(groundTruth, lastEvaluation.perImage),
  );
  gtInput.addEventListener('change', async () => {
    const file = gtInput.files?.[0];
    if (!file) return;
    const dataset = await reportingErrors('Opening the ground truth failed', async () =>
      CocoDataset.fromJson(await file.text(), file.name),
    );
    if (dataset) setGroundTruth(dataset);
  });
  resultsInput.addEventListener('change', async () => {
    const file = resultsInput.files?.[0];
    if (!file) return;
    const json = await reportingErrors('Reading the results failed', async () => {
      try {
        return JSON.parse(await file.text()) as unknown;
      } catch (error) {
        throw new Error(`"${file.name}" is not valid JSON (${(error as Error).message})`);
      }
    });
    if (json === undefined) return;
    results = { name: file.name, json };
    if (!groundTruth) status.textContent = 'open the ground truth (here or in the Dataset view)';
    await run();
  });
  iouType.addEventListener('change', () => void run());

  const section = el('section', { id: 'view-evaluation' }, [
    el('fieldset', {}, [
      el('legend', { text: 'Evaluation (class-agnostic, as proposals)' }),
      labelled('ground truth instances', gtInput),
      labelled('results (e.g. from deepmask eval)', resultsInput),
      iouType,
      status,
    ]),
    el('div', { class: 'row' }, [summary, plots]),
    el('p', {}, [
      labelled('list images without detections too', allImages),
      ' · click an image (picked in the Dataset view) to see its objects: green found at IoU 0.5, red missed',
    ]),
    el('div', { class: 'row' }, [el('div', { class: 'table-scroll' }, [images]), scene]),
  ]);
  return { section, setGroundTruth };
}

/** Recall at IoU threshold index `t` and maxDets index `m`, area "all", class-agnostic (K = 1). */
function recallAt(evaluation: EvaluationResult, t: number, m: number): number {
  const { areaRanges, maxDets } = evaluation.params;
  const a = Math.max(
    0,
    areaRanges.findIndex((range) => range.label === 'all'),
  );
  return evaluation.recall[(t * areaRanges.length + a) * maxDets.length + m];
}
