import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openModel } from '../src/model-path.js';
import { runCli } from './helpers.js';

const root = mkdtempSync(join(tmpdir(), 'deepmask-demo-e2e-'));
const run = join(root, 'run');
afterAll(() => rmSync(root, { recursive: true, force: true }));

let result: Awaited<ReturnType<typeof runCli>>;
beforeAll(async () => {
  result = await runCli([
    'demo',
    '--out',
    run,
    '--train-images',
    '6',
    '--val-images',
    '2',
    '--max-steps',
    '3',
    '--batch-size',
    '8',
    '--backend',
    'cpu',
  ]);
});

describe('demo with a tiny budget, through the command line', () => {
  it('prints the AR table of the untrained and the trained model, and where the run is', () => {
    expect([result.code, result.stderr]).toEqual([
      0,
      expect.stringContaining('writing the synthetic dataset'),
    ]);
    expect(result.stdout).toContain('DeepMask demo: 3 steps of the tiny model');
    expect(result.stdout).toMatch(/AR@10 +AR@100 +AR@1000 +AR_s@100 +AR_m@100 +AR_l@100/);
    for (const row of ['untrained segm', 'untrained bbox', 'trained segm', 'trained bbox']) {
      expect(result.stdout).toMatch(new RegExp(`\\n${row}( +(\\d\\.\\d{3}|-)){6}\\n`));
    }
    expect(result.stdout).toMatch(/segm AR@100: \d\.\d{3} untrained -> \d\.\d{3} trained/);
    expect(result.stdout).toContain(join(run, 'model', 'model.json').replace(`${process.cwd()}/`, ''));
  });

  it('writes a loadable model of the demo config', async () => {
    const { model, runDir } = await openModel(run);
    expect(runDir).toBe(run);
    expect([model.config.trunk, model.config.inputSizePx]).toEqual(['tiny', 64]);
    model.dispose();
  });

  it('logs one parseable metrics line per step and the final evaluation', () => {
    const lines = readFileSync(join(run, 'metrics.jsonl'), 'utf8').trim().split('\n');
    const records = lines.map((line) => JSON.parse(line));
    expect(records.map((r) => [r.type, r.step])).toEqual([
      ['step', 1],
      ['step', 2],
      ['step', 3],
      ['eval', 3],
    ]);
    for (const step of records.slice(0, 3)) expect(Number.isFinite(step.loss)).toBe(true);
    expect(records[3].images).toBe(2);
    expect(records[3].segm['AR@100']).toBeGreaterThanOrEqual(0);
  });

  it('draws the overlay of the first validation image as a PNG of its size', async () => {
    const overlay = join(run, 'infer', '000001.overlay.png');
    // The PNG signature, then what a decoder reads from it.
    expect([...readFileSync(overlay).subarray(0, 8)]).toEqual([137, 80, 78, 71, 13, 10, 26, 10]);
    const [drawn, image] = await Promise.all([
      sharp(overlay).metadata(),
      sharp(join(run, 'data', 'val', '000001.png')).metadata(),
    ]);
    expect([drawn.format, drawn.width, drawn.height]).toEqual(['png', image.width, image.height]);
    const proposals = JSON.parse(readFileSync(join(run, 'infer', '000001.proposals.json'), 'utf8'));
    expect(proposals.proposals.length).toBeGreaterThan(0);
  });
});
