import type { Rle } from '@deepmask/coco';
import type { DeepMask } from '@deepmask/model';
import {
  DEFAULT_SCALES,
  type ProposeResult,
  pasteMask,
  proposeMasks,
  scaleList,
  toCocoResults,
} from '@deepmask/pyramid';
import { colorOf } from './colors.js';
import { debugHook, plainRle } from './debug.js';
import { acceptDrops, el, fileInput, formatNumber, labelled } from './dom.js';
import { reportingErrors } from './errors.js';
import { renderHeatmaps } from './heatmaps.js';
import { decodeImage, imageTensor, isImageFile, type LoadedImage } from './image.js';
import { createModelPanel } from './modelPanel.js';
import { drawScene, type MaskLayer } from './overlay.js';
import { ProposalList } from './proposalList.js';

/** Masks decoded per run: the proposals slider chooses among these without re-running the network. */
const DEFAULT_TOP_N = 100;
const RUN_MASK_THRESHOLD = 0.2;
const OVERLAY_ALPHA = 0.45;

export interface ProposalsView {
  section: HTMLElement;
  showImage(image: LoadedImage): void;
  restoreRememberedModel(): Promise<void>;
}

export function createProposalsView(): ProposalsView {
  const modelPanel = createModelPanel((opened) => {
    model = opened;
    result = null;
    updateRunnable();
  });
  const imageFile = fileInput('image-file', { accept: 'image/*' });
  const imageStatus = el('span', {
    id: 'image-status',
    class: 'muted',
    text: 'no image (upload, drop or paste)',
  });
  const topN = el('input', { id: 'top-n', type: 'number', min: 1, max: 1000, value: DEFAULT_TOP_N });
  const scaleInput = (id: string, value: number) =>
    el('input', { id, type: 'number', step: 0.5, value: Math.round(value * 1000) / 1000, size: 4 });
  // The paper's scales, 2^-2 .. 2^1 in steps of 2^(1/2); fewer scales give a faster, coarser run.
  const paperScales = scaleList(DEFAULT_SCALES);
  const minLog2 = scaleInput('scales-min-log2', Math.log2(paperScales[0]));
  const maxLog2 = scaleInput('scales-max-log2', Math.log2(paperScales[paperScales.length - 1]));
  const stepLog2 = scaleInput('scales-step-log2', Math.log2(paperScales[1] / paperScales[0]));
  const runButton = el('button', { id: 'run', text: 'Run pyramid', disabled: true });
  const progress = el('progress', { id: 'run-progress', max: 1, value: 0 });
  const runStatus = el('span', { id: 'run-status', class: 'muted' });
  const countSlider = el('input', {
    id: 'num-proposals',
    type: 'range',
    min: 1,
    max: DEFAULT_TOP_N,
    value: 10,
  });
  const countLabel = el('output', { id: 'num-proposals-value', text: '10' });
  const thresholdSlider = el('input', {
    id: 'mask-threshold',
    type: 'range',
    min: 0.05,
    max: 0.95,
    step: 0.05,
    value: RUN_MASK_THRESHOLD,
  });
  const thresholdLabel = el('output', { id: 'mask-threshold-value', text: String(RUN_MASK_THRESHOLD) });
  const download = el('button', { id: 'download-results', text: 'Download COCO results', disabled: true });
  const scene = el('canvas', { id: 'scene', class: 'scene', width: 640, height: 480 });
  const list = el('div', { id: 'proposal-list', class: 'list' });
  const details = el('pre', { id: 'proposal-details' });
  const timings = el('table', { id: 'timings' });
  const heatmaps = el('div', { id: 'heatmaps', class: 'grid' });

  const section = el('section', { id: 'view-proposals' }, [
    modelPanel.fieldset,
    el('fieldset', {}, [el('legend', { text: 'Image' }), imageFile, imageStatus]),
    el('fieldset', {}, [
      el('legend', { text: 'Run' }),
      labelled('top N', topN),
      labelled('scales 2^', minLog2),
      labelled('.. 2^', maxLog2),
      labelled('step 2^', stepLog2),
      runButton,
      progress,
      runStatus,
      download,
    ]),
    el('fieldset', {}, [
      el('legend', { text: 'Display' }),
      labelled('proposals', countSlider),
      countLabel,
      labelled('mask threshold', thresholdSlider),
      thresholdLabel,
    ]),
    el('div', { class: 'row' }, [scene, list, details]),
    el('h3', { text: 'Timings (ms)' }),
    timings,
    el('h3', { text: 'Score maps per scale' }),
    heatmaps,
  ]);

  let model: DeepMask | null = null;
  let image: LoadedImage | null = null;
  let result: ProposeResult | null = null;
  let masksAtThreshold: { threshold: number; rles: Rle[] } | null = null;
  const proposalList = new ProposalList(list, details, () => redraw());

  function showImage(opened: LoadedImage): void {
    image = opened;
    result = null;
    masksAtThreshold = null;
    imageStatus.textContent = `${opened.name} · ${opened.width}×${opened.height}`;
    debugHook.image = { name: opened.name, width: opened.width, height: opened.height };
    debugHook.result = null;
    list.replaceChildren();
    heatmaps.replaceChildren();
    timings.replaceChildren();
    download.disabled = true;
    redraw();
    updateRunnable();
  }

  async function openImageFile(file: File): Promise<void> {
    const opened = await reportingErrors('Opening the image failed', () => decodeImage(file, file.name));
    if (opened) showImage(opened);
  }

  function updateRunnable(): void {
    runButton.disabled = !(model && image);
  }

  async function run(): Promise<void> {
    if (!model || !image) return;
    const requestedTopN = Math.max(1, Math.floor(Number(topN.value)));
    runButton.disabled = true;
    progress.removeAttribute('value');
    runStatus.textContent = 'running the dense network at every scale…';
    await nextFrame();
    const started = performance.now();
    const currentModel = model;
    const currentImage = image;
    const outcome = await reportingErrors('Running the pyramid failed', async () => {
      const input = imageTensor(currentImage);
      try {
        return await proposeMasks(currentModel, input, {
          topN: requestedTopN,
          scales: {
            minLog2: Number(minLog2.value),
            maxLog2: Number(maxLog2.value),
            stepLog2: Number(stepLog2.value),
          },
          maskThreshold: RUN_MASK_THRESHOLD,
          keepMaskLogits: true,
          scoreMaps: true,
        });
      } finally {
        input.dispose();
      }
    });
    progress.value = outcome ? 1 : 0;
    runButton.disabled = false;
    if (!outcome) {
      runStatus.textContent = 'failed';
      return;
    }
    result = outcome;
    masksAtThreshold = { threshold: RUN_MASK_THRESHOLD, rles: outcome.proposals.map((p) => p.rle) };
    const kept = outcome.proposals.length;
    countSlider.max = String(Math.max(1, kept));
    if (Number(countSlider.value) > kept) countSlider.value = String(Math.max(1, kept));
    runStatus.textContent = `${kept} proposals in ${Math.round(performance.now() - started)} ms`;
    download.disabled = kept === 0;
    debugHook.runs += 1;
    debugHook.result = {
      proposals: outcome.proposals.map(({ score, bbox, scale, x, y }) => ({
        score,
        bbox: [...bbox],
        scale,
        x,
        y,
      })),
      timings: { ...outcome.timings },
      scoreMapScales: (outcome.scoreMaps ?? []).map((map) => map.scale),
    };
    renderTimings(outcome.timings as unknown as Record<string, number>);
    renderHeatmaps(heatmaps, outcome.scoreMaps ?? []);
    proposalList.show(outcome.proposals, shownCount());
    redraw();
  }

  function shownCount(): number {
    return Math.min(Number(countSlider.value), result?.proposals.length ?? 0);
  }

  /** Masks of the shown proposals at the slider's threshold, re-pasted from the kept logits. */
  function shownMasks(): Rle[] {
    if (!result || !image) return [];
    const threshold = Number(thresholdSlider.value);
    const count = shownCount();
    if (!masksAtThreshold || masksAtThreshold.threshold !== threshold) {
      masksAtThreshold = { threshold, rles: [] };
    }
    const { rles } = masksAtThreshold;
    for (let rank = rles.length; rank < count; rank++) {
      rles.push(pasteMask(result.proposals[rank], threshold, image.height, image.width));
    }
    return rles.slice(0, count);
  }

  function redraw(): void {
    if (!image) return;
    const masks = shownMasks();
    const isolated = proposalList.isolated;
    const layers: MaskLayer[] = [];
    // Drawn worst first so that the best proposal lies on top.
    for (let rank = masks.length - 1; rank >= 0; rank--) {
      if (isolated !== null && rank !== isolated) continue;
      const proposal = result!.proposals[rank];
      layers.push({
        rle: masks[rank],
        color: colorOf(rank),
        bbox: proposal.bbox,
        label: formatNumber(proposal.score, 2),
      });
    }
    drawScene(scene, image.pixels, layers, isolated === null ? OVERLAY_ALPHA : 0.6);
    if (result) proposalList.refresh(result.proposals);
    debugHook.display = { count: masks.length, maskThreshold: Number(thresholdSlider.value), isolated };
    debugHook.shownMasks = () => masks.map(plainRle);
  }

  function renderTimings(values: Record<string, number>): void {
    timings.replaceChildren(
      ...Object.entries(values).map(([stage, ms]) =>
        el('tr', {}, [el('th', { text: stage.replace(/Ms$/, '') }), el('td', { text: formatNumber(ms, 1) })]),
      ),
    );
  }

  /** The best shown proposal whose mask covers the pointer, so hovering the image isolates it. */
  function proposalAt(event: MouseEvent): number | null {
    if (!image || !result) return null;
    const bounds = scene.getBoundingClientRect();
    const x = Math.floor(((event.clientX - bounds.left) / bounds.width) * image.width);
    const y = Math.floor(((event.clientY - bounds.top) / bounds.height) * image.height);
    const masks = shownMasks();
    for (let rank = 0; rank < masks.length; rank++) {
      if (rleCovers(masks[rank], x, y)) return rank;
    }
    return null;
  }

  imageFile.addEventListener('change', () => {
    const file = imageFile.files?.[0];
    if (file) void openImageFile(file);
  });
  acceptDrops(section, (files) => {
    const images = files.filter(isImageFile);
    if (images.length === files.length && images.length === 1) void openImageFile(images[0]);
    else void modelPanel.openFiles(files);
  });
  document.addEventListener('paste', (event) => {
    const file = [...(event.clipboardData?.files ?? [])].find(isImageFile);
    if (file && !section.hidden) void openImageFile(file);
  });
  runButton.addEventListener('click', () => void run());
  countSlider.addEventListener('input', () => {
    countLabel.textContent = countSlider.value;
    if (result) proposalList.show(result.proposals, shownCount());
    redraw();
  });
  thresholdSlider.addEventListener('input', () => {
    thresholdLabel.textContent = thresholdSlider.value;
    redraw();
  });
  download.addEventListener('click', () => {
    if (!result || !image) return;
    const json = JSON.stringify(toCocoResults(result.proposals.slice(0, shownCount()), 0));
    const link = el('a', { href: URL.createObjectURL(new Blob([json], { type: 'application/json' })) });
    link.download = `${image.name.replace(/\.[^.]+$/, '')}-proposals.json`;
    link.click();
    URL.revokeObjectURL(link.href);
  });
  scene.addEventListener('mousemove', (event) => {
    const rank = proposalAt(event);
    if (rank !== proposalList.isolated) proposalList.hover(rank);
  });
  scene.addEventListener('mouseleave', () => proposalList.hover(null));
  scene.addEventListener('click', (event) => {
    const rank = proposalAt(event);
    if (rank !== null) proposalList.pin(rank);
  });

  return { section, showImage, restoreRememberedModel: modelPanel.restoreRememberedModel };
}

function nextFrame(): Promise<void> {
  return new Promise((resolve) => requestAnimationFrame(() => setTimeout(resolve, 0)));
}

/** Whether pixel `(x, y)` is on in a column-major RLE. */
function rleCovers(rle: Rle, x: number, y: number): boolean {
  const [height, width] = rle.size;
  if (x < 0 || y < 0 || x >= width || y >= height) return false;
  const target = x * height + y;
  let position = 0;
  for (let k = 0; k < rle.counts.length; k++) {
    position += rle.counts[k];
    if (target < position) return k % 2 === 1;
  }
  return false;
}
