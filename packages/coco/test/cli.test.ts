import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../src/cli-main.js';
import { tinyGt } from './fixtures.js';

const packageDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const results = [
  { image_id: 0, category_id: 3, bbox: [1, 1, 4, 4], score: 0.9 },
  { image_id: 7, category_id: 1, bbox: [0, 0, 3, 2], score: 0.5 },
];

function run(argv: string[], files: Record<string, string>) {
  let stdout = '';
  let stderr = '';
  const code = main(argv, {
    readFile: (file) => {
      if (!(file in files)) throw new Error(`ENOENT: no such file, open '${file}'`);
      return files[file];
    },
    stdout: (text) => {
      stdout += text;
    },
    stderr: (text) => {
      stderr += text;
    },
  });
  return { code, stdout, stderr };
}

const FILES = { 'gt.json': JSON.stringify(tinyGt()), 'dt.json': JSON.stringify(results) };

describe('coco-eval main()', () => {
  it('prints stats and extra as one JSON object', () => {
    const { code, stdout } = run(['--gt', 'gt.json', '--dt', 'dt.json', '--iou-type', 'bbox'], FILES);
    expect(code).toBe(0);
    const out = JSON.parse(stdout);
    expect(out.stats).toHaveLength(12);
    expect(Object.keys(out.extra)).toEqual([
      ...[1, 10, 100].flatMap((n) => [`AR@${n}`, `AR_small@${n}`, `AR_medium@${n}`, `AR_large@${n}`]),
      'AP@1',
      'AP@10',
      'AP@100',
    ]);
    // gt 1 found exactly; gt 3 (3x3) by a 3x2 box, IoU 2/3: found at thresholds 0.5..0.65 (4 of 10)
    expect(out.stats[8]).toBeCloseTo((1 + 0.4) / 2, 12);
  });

  it('uses maxDets 1,10,100,1000 with --proposals, or --max-dets', () => {
    const proposals = JSON.parse(
      run(['--gt=gt.json', '--dt=dt.json', '--iou-type=segm', '--proposals'], FILES).stdout,
    );
    expect(proposals.extra['AR@1000']).toBeDefined();
    const custom = JSON.parse(
      run(
        [
          '--gt',
          'gt.json',
          '--dt',
          'dt.json',
          '--iou-type',
          'segm',
          '--proposals',
          '--max-dets',
          '300,100,1000',
        ],
        FILES,
      ).stdout,
    );
    expect(Object.keys(custom.extra).filter((k) => k.startsWith('AR@'))).toEqual([
      'AR@100',
      'AR@300',
      'AR@1000',
    ]);
    expect(custom.stats[6]).toBe(custom.extra['AR@100']);
  });

  it('prints a table with --table', () => {
    const { code, stdout } = run(
      ['--gt', 'gt.json', '--dt', 'dt.json', '--iou-type', 'bbox', '--table'],
      FILES,
    );
    expect(code).toBe(0);
    expect(stdout).toMatch(
      /Average Precision {2}\(AP\) @\[ IoU=0\.50:0\.95 \| area= {3}all \| maxDets= 100 \] = /,
    );
    expect(stdout).toMatch(/AR_small/);
  });

  it.each([
    ['truncated JSON', { ...FILES, 'dt.json': '[{"image_id": 0,' }, 1, /dt\.json: not valid JSON/],
    [
      'a wrong type',
      { ...FILES, 'dt.json': '[{"image_id": "0", "category_id": 3, "bbox": [1,1,4,4], "score": 1}]' },
      1,
      /result \[0\]: field "image_id" must be a finite number/,
    ],
    [
      'a bad RLE string',
      {
        ...FILES,
        'dt.json':
          '[{"image_id": 0, "category_id": 3, "segmentation": {"size": [8, 10], "counts": "\\u0001"}, "score": 1}]',
      },
      1,
      /bad RLE/,
    ],
    [
      'a negative size',
      { ...FILES, 'gt.json': JSON.stringify({ ...tinyGt(), images: [{ id: 0, width: -10, height: 8 }] }) },
      1,
      /images\[0\] \(id 0\): field "width" must not be negative/,
    ],
    ['a missing file', { 'gt.json': FILES['gt.json'] }, 1, /dt\.json: cannot read the --dt file/],
  ])('fails cleanly on %s', (_, files, expectedCode, message) => {
    const { code, stdout, stderr } = run(['--gt', 'gt.json', '--dt', 'dt.json', '--iou-type', 'segm'], files);
    expect(code).toBe(expectedCode);
    expect(stdout).toBe('');
    expect(stderr).toMatch(message);
    expect(stderr).not.toMatch(/\n\s+at /);
  });

  it('explains bad usage with exit status 2', () => {
    expect(run(['--gt', 'gt.json', '--iou-type', 'segm'], FILES)).toMatchObject({
      code: 2,
      stderr: expect.stringMatching(/--dt RESULTS.json is required/),
    });
    expect(run(['--gt', 'gt.json', '--dt', 'dt.json', '--iou-type', 'mask'], FILES).code).toBe(2);
    expect(run(['--frobnicate'], FILES).code).toBe(2);
    expect(
      run(['--gt', 'gt.json', '--dt', 'dt.json', '--iou-type', 'segm', '--max-dets', '1,10'], FILES).code,
    ).toBe(2);
  });
});

describe('coco-eval, the built binary', () => {
  let dir = '';
  beforeAll(() => {
    execFileSync(path.join(packageDir, 'node_modules/.bin/tsc'), ['-p', 'tsconfig.build.json'], {
      cwd: packageDir,
    });
    dir = mkdtempSync(path.join(os.tmpdir(), 'coco-cli-'));
    writeFileSync(path.join(dir, 'gt.json'), FILES['gt.json']);
    writeFileSync(path.join(dir, 'dt.json'), FILES['dt.json']);
    writeFileSync(
      path.join(dir, 'bad.json'),
      '[{"image_id": 0, "category_id": 3, "segmentation": {"size": [8, 10], "counts": "0"}, "score": 1}]',
    );
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('runs from its shebang line and exits non-zero without a stack trace on bad input', () => {
    const cli = path.join(packageDir, 'dist/cli.js');
    expect(readFileSync(cli, 'utf8').startsWith('#!/usr/bin/env node\n')).toBe(true);
    const ok = spawnSync(
      process.execPath,
      [cli, '--gt', path.join(dir, 'gt.json'), '--dt', path.join(dir, 'dt.json'), '--iou-type', 'bbox'],
      { encoding: 'utf8' },
    );
    expect(ok.status).toBe(0);
    expect(JSON.parse(ok.stdout).stats).toHaveLength(12);
    const bad = spawnSync(
      process.execPath,
      [cli, '--gt', path.join(dir, 'gt.json'), '--dt', path.join(dir, 'bad.json'), '--iou-type', 'segm'],
      { encoding: 'utf8' },
    );
    expect(bad.status).toBe(1);
    expect(bad.stderr).toMatch(
      /^coco-eval: error: .*bad\.json: result \[0\]: field "segmentation": bad RLE: counts sum to 0/,
    );
    expect(bad.stderr).not.toMatch(/\n\s+at /);
  });
});
