import { existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { CocoDataset, rleFromCocoJson, rleToRowMajor } from '@deepmask/coco';
import { loadDeepMask } from '@deepmask/model';
import { fileSystemHandler } from '@deepmask/model/node';
import { type Proposal, proposeMasks } from '@deepmask/pyramid';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import * as tf from '@tensorflow/tfjs-core';
import type { BrowserContext, Page } from 'playwright-core';
import type { ViteDevServer } from 'vite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DebugHook } from '../src/debug.js';
import { ARTIFACTS_DIR, chromiumMissing, launchChromium, sharedDir, startViewer } from './harness.js';
import { drawSquares, encodeBmp } from './synthetic.js';
import { trainTinyModel } from './tinyModel.js';

const TOP_N = 50;
/** How many of the best proposals must agree between the page and Node. */
const COMPARED = 10;
const SCENE = drawSquares(
  192,
  144,
  [
    { x: 20, y: 24, side: 40, color: [230, 40, 40] },
    { x: 110, y: 60, side: 52, color: [40, 60, 220] },
  ],
  3,
);

const skipReason = chromiumMissing();
if (skipReason) console.warn(skipReason);

describe.skipIf(skipReason !== null)('viewer in headless Chromium', () => {
  let modelDir: string;
  let nodeProposals: Proposal[];
  let server: ViteDevServer;
  let url: string;
  let browser: BrowserContext;
  let page: Page;

  beforeAll(async () => {
    await tf.setBackend('cpu');
    const trained = await trainTinyModel(30, 8);
    modelDir = mkdtempSync(path.join(tmpdir(), 'deepmask-viewer-model-'));
    await trained.save(fileSystemHandler(modelDir));
    trained.dispose();

    await tf.setBackend('wasm');
    const model = await loadDeepMask(fileSystemHandler(modelDir));
    const image = tf.tensor3d(Int32Array.from(SCENE.data), [SCENE.height, SCENE.width, 3], 'int32');
    nodeProposals = (await proposeMasks(model, image, { topN: TOP_N, maskThreshold: 0.2 })).proposals;
    image.dispose();
    model.dispose();

    ({ server, url } = await startViewer({ '/test-model/': modelDir }));
    browser = await launchChromium();
    page = await browser.newPage();
    page.on('pageerror', (error) => console.error('page error:', error.message));
  });

  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  async function open(query = ''): Promise<void> {
    await page.goto(url + query);
    await page.waitForSelector('body[data-ready="true"]', { timeout: 60_000 });
  }

  const hook = () => page.evaluate(() => JSON.parse(JSON.stringify(window.__deepmask)) as DebugHook);

  async function uploadModel(): Promise<void> {
    const files = readdirSync(modelDir).map((name) => path.join(modelDir, name));
    await page.setInputFiles('#model-files', files);
    await page.waitForFunction(() =>
      document.querySelector('#model-status')?.textContent?.includes('tiny trunk'),
    );
  }

  async function runOnScene(): Promise<DebugHook> {
    await page.setInputFiles('#image-file', {
      name: 'squares.bmp',
      mimeType: 'image/bmp',
      buffer: encodeBmp(SCENE),
    });
    await page.waitForFunction(() => window.__deepmask.image?.name === 'squares.bmp');
    await page.fill('#top-n', String(TOP_N));
    const runsBefore = (await hook()).runs;
    await page.click('#run');
    // The first WebGL run compiles every shader: tens of seconds on software WebGL under load.
    await page.waitForFunction((n) => window.__deepmask.runs > n, runsBefore, { timeout: 150_000 });
    return hook();
  }

  /** Page and Node agree on the best proposals: same cells, same boxes, scores within 1e-3. */
  function expectSameTopProposals(pageResult: NonNullable<DebugHook['result']>): void {
    expect(pageResult.proposals.length).toBeGreaterThanOrEqual(COMPARED);
    const sortedPage = pageResult.proposals.map((p) => p.score);
    let largestDifference = 0;
    nodeProposals.slice(0, COMPARED).forEach((expected, rank) => {
      expect(Math.abs(sortedPage[rank] - expected.score)).toBeLessThan(1e-3);
      // Near-equal scores may swap ranks between backends: match by (scale, centre).
      const same = pageResult.proposals.find(
        (p) =>
          Math.abs(p.scale - expected.scale) < 1e-9 &&
          Math.abs(p.x - expected.x) < 1e-6 &&
          Math.abs(p.y - expected.y) < 1e-6,
      );
      expect(
        same,
        `Node proposal #${rank + 1} at scale ${expected.scale} (${expected.x}, ${expected.y})`,
      ).toBeDefined();
      expect(same!.bbox).toEqual([...expected.bbox]);
      expect(Math.abs(same!.score - expected.score)).toBeLessThan(1e-3);
      largestDifference = Math.max(largestDifference, Math.abs(same!.score - expected.score));
    });
    console.info(
      `top ${COMPARED}: same cells and boxes; largest score difference ${largestDifference.toExponential(2)}`,
    );
  }

  async function scenePixels(): Promise<Uint8ClampedArray> {
    const data = await page.evaluate(() => {
      const canvas = document.querySelector<HTMLCanvasElement>('#scene')!;
      return [...canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height).data];
    });
    return Uint8ClampedArray.from(data);
  }

  it('starts with an automatically chosen backend, shown in the page', async () => {
    await open();
    const { backend } = await hook();
    expect(['webgl', 'wasm']).toContain(backend?.name);
    expect(await page.textContent('#backend')).toContain(backend!.name);
    console.info(`default backend: ${backend!.name} (${backend!.detail}) ${backend!.fallbackReason}`);
  });

  it('shows a visible error for a wrong or broken model file, not a blank page', async () => {
    await page.setInputFiles('#model-files', {
      name: 'model.json',
      mimeType: 'application/json',
      buffer: Buffer.from('[{"image_id": 1, "score": 0.5}]'),
    });
    await page.waitForSelector('#error:not([hidden])');
    expect(await page.textContent('#error')).toContain('weightsManifest');
    const shard = readdirSync(modelDir).find((name) => name.endsWith('.bin'))!;
    await page.setInputFiles('#model-files', path.join(modelDir, 'model.json'));
    await page.waitForFunction(
      (name) => document.querySelector('#error')?.textContent?.includes(name),
      shard,
    );
    expect(await page.isVisible('#error')).toBe(true);
    expect(await page.isVisible('#run')).toBe(true);
    await page.screenshot({ path: path.join(ARTIFACTS_DIR, 'wrong-model-error.png') });
  });

  it('runs the pyramid and draws the best proposal over the image', async () => {
    await uploadModel();
    const before = await scenePixels();
    const state = await runOnScene();
    expect(await page.isHidden('#error')).toBe(true);
    expect(state.result!.proposals.length).toBeGreaterThan(0);
    const top = await page.evaluate(() => window.__deepmask.shownMasks()[0]);
    const mask = rleToRowMajor(rleFromCocoJson({ size: top.size, counts: top.counts }));
    const after = await scenePixels();
    let inside = 0;
    let changed = 0;
    for (let p = 0; p < mask.length; p++) {
      if (!mask[p]) continue;
      inside++;
      const differs = [0, 1, 2].some((c) => after[4 * p + c] !== before[4 * p + c]);
      if (differs) changed++;
    }
    expect(inside).toBeGreaterThan(0);
    expect(changed / inside).toBeGreaterThan(0.95);
    expect(await page.locator('#heatmaps canvas').count()).toBe(state.result!.scoreMapScales.length);
    expect(await page.locator('#timings tr').count()).toBeGreaterThan(0);
    await page.screenshot({ path: path.join(ARTIFACTS_DIR, 'proposals.png'), fullPage: true });
  });

  it('gives the same top proposals in the browser as Node on wasm', async () => {
    const { result, backend } = await hook();
    console.info(`page backend ${backend!.name} vs Node wasm: comparing the top ${COMPARED} of ${TOP_N}`);
    expectSameTopProposals(result!);
  });

  it('moves the sliders without re-running the network, and isolates a proposal', async () => {
    const runs = (await hook()).runs;
    await setRange('#num-proposals', 1);
    let state = await hook();
    expect(state.display.count).toBe(1);
    const areaAt = async () =>
      page.evaluate(() =>
        window.__deepmask.shownMasks()[0].counts.reduce((sum, run, k) => sum + (k % 2 ? run : 0), 0),
      );
    const areaLow = await areaAt();
    await setRange('#mask-threshold', 0.9);
    state = await hook();
    expect(state.display.maskThreshold).toBeCloseTo(0.9);
    expect(await areaAt()).toBeLessThanOrEqual(areaLow);
    await setRange('#num-proposals', 5);
    await setRange('#mask-threshold', 0.2);
    expect((await hook()).display.count).toBe(5);
    expect((await hook()).runs).toBe(runs);
    await page.hover('#proposal-list > div:nth-child(2)');
    state = await hook();
    expect(state.display.isolated).toBe(1);
    expect(await page.textContent('#proposal-details')).toContain('#2');
    expect(await page.textContent('#proposal-details')).toMatch(/score .*scale .*\n.*box/s);
    await page.screenshot({ path: path.join(ARTIFACTS_DIR, 'isolated-proposal.png'), fullPage: true });
  });

  it('remembers the model, opens one by URL, and runs on the forced wasm backend', async () => {
    await open('?backend=wasm');
    expect((await hook()).backend?.name).toBe('wasm');
    await page.waitForFunction(() =>
      document.querySelector('#model-status')?.textContent?.includes('IndexedDB'),
    );
    await page.fill('#model-url', '/test-model/model.json');
    await page.click('#model-url-open');
    await page.waitForFunction(() =>
      document.querySelector('#model-status')?.textContent?.includes('/test-model/'),
    );
    const state = await runOnScene();
    expectSameTopProposals(state.result!);
  });

  it('forces the WebGL backend by URL and reports what ran', async () => {
    await open('?backend=webgl');
    const { backend } = await hook();
    console.info(`?backend=webgl ran: ${backend!.name} (${backend!.detail}) ${backend!.fallbackReason}`);
    expect(backend!.name === 'webgl' || backend!.fallbackReason.length > 0).toBe(true);
  });

  it('opens images dropped on the page or pasted', async () => {
    const bytes = [...encodeBmp(SCENE)];
    const dataTransfer = await page.evaluateHandle((data) => {
      const transfer = new DataTransfer();
      transfer.items.add(new File([new Uint8Array(data)], 'dropped.bmp', { type: 'image/bmp' }));
      return transfer;
    }, bytes);
    await page.dispatchEvent('#view-proposals', 'drop', { dataTransfer });
    await page.waitForFunction(() => window.__deepmask.image?.name === 'dropped.bmp');
    await page.evaluate((data) => {
      const transfer = new DataTransfer();
      transfer.items.add(new File([new Uint8Array(data)], 'pasted.bmp', { type: 'image/bmp' }));
      document.dispatchEvent(new ClipboardEvent('paste', { clipboardData: transfer }));
    }, bytes);
    await page.waitForFunction(() => window.__deepmask.image?.name === 'pasted.bmp');
  });

  it('shows a visible error for a file that is not an image', async () => {
    await page.setInputFiles('#image-file', {
      name: 'notes.png',
      mimeType: 'image/png',
      buffer: Buffer.from('hello'),
    });
    await page.waitForSelector('#error:not([hidden])');
    expect(await page.textContent('#error')).toContain('notes.png');
  });

  it('plots a run’s metrics.jsonl', async () => {
    const lines = Array.from({ length: 20 }, (_, step) =>
      JSON.stringify({
        step,
        loss: 1 / (step + 1),
        maskLoss: 0.5 / (step + 1),
        ...(step % 5 === 4 ? { 'AR@100': step / 40 } : {}),
      }),
    );
    await page.click('#tab-training');
    await page.setInputFiles('#metrics-file', {
      name: 'metrics.jsonl',
      mimeType: 'text/plain',
      buffer: Buffer.from(lines.join('\n')),
    });
    await page.waitForSelector('#metrics-plots canvas');
    expect(await page.locator('#metrics-plots canvas').count()).toBe(2);
    expect(await page.textContent('#metrics-status')).toContain('20 records');
    await page.screenshot({ path: path.join(ARTIFACTS_DIR, 'training.png'), fullPage: true });
  });

  describe('with coco-mini', () => {
    const cocoMini = path.join(sharedDir(), 'data/coco-mini');
    const instances = path.join(cocoMini, 'annotations/instances_val2017.json');
    const present = existsSync(instances);
    if (!present) console.warn(`${instances} is absent: skipping the dataset and evaluation views`);
    const dataset = present
      ? CocoDataset.fromJson(readFileSync(instances, 'utf8'), 'instances_val2017.json')
      : null;
    const images = dataset ? dataset.images.slice(0, 4) : [];

    it.skipIf(!present)('shows ground truth and sampled training patches', async () => {
      await page.click('#tab-dataset');
      await page.setInputFiles('#dataset-files', [
        instances,
        ...images.map((image) => path.join(cocoMini, 'val2017', image.file_name!)),
      ]);
      await page.waitForFunction(() =>
        document.querySelector('#dataset-summary')?.textContent?.includes('4 picked'),
      );
      await page.click('#dataset-images > div:first-child');
      await page.waitForFunction(() => document.querySelector('#dataset-annotations')?.childElementCount);
      const objects = dataset!.annotationsOf(images[0].id).length;
      expect(await page.locator('#dataset-annotations > div').count()).toBe(objects);
      await page.click('#dataset-sample');
      await page.waitForSelector('#patches figure', { timeout: 60_000 });
      expect(await page.locator('#patches figure.positive').count()).toBeGreaterThan(0);
      expect(await page.locator('#patches figure.negative').count()).toBeGreaterThan(0);
      await page.screenshot({ path: path.join(ARTIFACTS_DIR, 'dataset.png'), fullPage: true });
    });

    it.skipIf(!present)(
      'evaluates a results file: recall curves and the objects found per image',
      async () => {
        // Results that repeat every other ground-truth object of the first images exactly.
        const chosen = images.flatMap((image) =>
          dataset!.annotationsOf(image.id).filter((a, k) => !a.iscrowd && k % 2 === 0),
        );
        const results = chosen.map((a, k) => ({
          image_id: a.image_id,
          category_id: 1,
          segmentation: a.segmentation,
          score: 1 - k / 1000,
        }));
        const countable = dataset!.annotations.filter((a) => !a.iscrowd).length;
        await page.click('#tab-evaluation');
        await page.setInputFiles('#eval-results', {
          name: 'results.json',
          mimeType: 'application/json',
          buffer: Buffer.from(JSON.stringify(results)),
        });
        await page.waitForSelector('#eval-plots canvas', { timeout: 60_000 });
        const evaluation = await page.evaluate(() => window.__deepmask.evaluation);
        expect(
          evaluation!.recallByIou.every(([, recall]) => Math.abs(recall - chosen.length / countable) < 1e-9),
        ).toBe(true);
        const firstChosen = chosen.filter((a) => a.image_id === images[0].id).length;
        const firstTotal = dataset!.annotationsOf(images[0].id).filter((a) => !a.iscrowd).length;
        const row = page.locator(`#eval-images tr[data-image-id="${images[0].id}"]`);
        expect(await row.textContent()).toContain(`${firstChosen} / ${firstTotal}`);
        expect(await page.locator('#eval-images tr[data-image-id]').count()).toBe(images.length);
        await row.click();
        await page.waitForSelector('#eval-scene:not([hidden])');
        await page.screenshot({ path: path.join(ARTIFACTS_DIR, 'evaluation.png'), fullPage: true });
      },
    );
  });

  async function setRange(selector: string, value: number): Promise<void> {
    await page.$eval(
      selector,
      (input: HTMLInputElement, v) => {
        input.value = String(v);
        input.dispatchEvent(new Event('input', { bubbles: true }));
      },
      value,
    );
  }
});
