import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CocoDataset, evaluate } from '@deepmask/coco';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../src/backend.js';
import { MetricsLog } from '../src/metrics-log.js';
import { trainTinyModel } from '../src/tiny.js';
import { runCli } from './helpers.js';

const root = mkdtempSync(join(tmpdir(), 'deepmask-commands-'));
const run = join(root, 'run');
const val = { dir: join(run, 'data', 'val'), ann: join(run, 'data', 'annotations', 'instances_val.json') };
afterAll(() => rmSync(root, { recursive: true, force: true }));

beforeAll(async () => {
  await selectBackend('wasm');
  await trainTinyModel(run, { steps: 6, trainImages: 8, valImages: 2 });
});

describe('trainTinyModel', () => {
  it('writes a complete run folder', () => {
    for (const file of [
      'config.json',
      'metrics.jsonl',
      'model/model.json',
      'checkpoint/state.json',
      'eval/val-eval.json',
    ]) {
      expect(existsSync(join(run, file)), file).toBe(true);
    }
    const records = MetricsLog.read(join(run, 'metrics.jsonl'));
    expect(records.filter((r) => r.type === 'step').map((r) => r.step)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(records.filter((r) => r.type === 'eval').map((r) => r.step)).toEqual([6]);
  });
});

describe('eval', () => {
  it('prints {"segm", "bbox"} as coco-eval --proposals does, for the results it writes', async () => {
    const result = await runCli([
      'eval',
      '--model',
      run,
      '--data',
      val.dir,
      '--ann',
      val.ann,
      '--json',
      '--backend',
      'wasm',
    ]);
    expect(result.code).toBe(0);
    const printed = JSON.parse(result.stdout);
    expect(Object.keys(printed)).toEqual(['segm', 'bbox']);
    const gt = CocoDataset.fromJson(readFileSync(val.ann, 'utf8'), val.ann);
    const results = readFileSync(join(run, 'eval', 'results.json'), 'utf8');
    for (const iouType of ['segm', 'bbox'] as const) {
      expect(Object.keys(printed[iouType])).toEqual(['stats', 'extra']);
      expect(printed[iouType].stats).toHaveLength(12);
      const reference = evaluate(gt, results, { iouType, useCats: false, maxDets: [1, 10, 100, 1000] });
      expect(printed[iouType]).toEqual({ stats: reference.stats, extra: reference.extra });
    }
  });

  it('prints the AR table', async () => {
    const result = await runCli([
      'eval',
      '--model',
      join(run, 'model'),
      '--data',
      val.dir,
      '--ann',
      val.ann,
      '--max-images',
      '1',
    ]);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/AR@10 +AR@100 +AR@1000/);
    expect(result.stdout).toMatch(/model segm +\d\.\d{3}/);
    expect(result.stdout).toMatch(/model bbox +\d\.\d{3}/);
  });
});

describe('infer', () => {
  it('writes proposals JSON and an overlay PNG of the image size', async () => {
    const image = join(val.dir, '000001.png');
    const out = join(root, 'infer');
    const result = await runCli(['infer', '--model', run, '--out', out, '--top-n', '20', image]);
    expect(result.code).toBe(0);
    const json = JSON.parse(readFileSync(join(out, '000001.proposals.json'), 'utf8'));
    expect(json.proposals).toHaveLength(20);
    expect(json.proposals[0].score).toBeGreaterThanOrEqual(json.proposals[19].score);
    const [overlay, input] = await Promise.all([
      sharp(join(out, '000001.overlay.png')).metadata(),
      sharp(image).metadata(),
    ]);
    expect([overlay.width, overlay.height, overlay.format]).toEqual([input.width, input.height, 'png']);
  });

  it('names a missing image or model', async () => {
    expect((await runCli(['infer', '--model', run])).stderr).toContain('no IMAGE given');
    expect((await runCli(['infer', '--model', run, join(root, 'nope.png')])).stderr).toContain(
      `IMAGE '${join(root, 'nope.png')}': cannot read (ENOENT)`,
    );
    expect((await runCli(['infer', '--model', root, 'x.png'])).stderr).toContain(
      `--model: '${root}' is neither a run folder`,
    );
  });
});
