import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { smallDataset } from './fixtures.js';
import { runCli } from './helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'deepmask-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function file(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

describe('command line', () => {
  it('lists the commands, and each has --help', async () => {
    const top = await runCli(['--help']);
    expect(top.code).toBe(0);
    for (const name of ['demo', 'train', 'eval', 'infer', 'summary']) {
      expect(top.stdout).toContain(name);
      const help = await runCli([name, '--help']);
      expect(help.code).toBe(0);
      expect(help.stdout).toContain(`deepmask ${name}`);
      expect(help.stdout).toContain('--config');
    }
    expect((await runCli(['train', '--help'])).stdout).toMatch(
      /--batch-size <integer> +patches per batch \(default 32\)/,
    );
  });

  it('names the unknown command, flag or missing flag', async () => {
    const unknown = await runCli(['trian']);
    expect([unknown.code, unknown.stderr]).toEqual([2, expect.stringContaining("unknown command 'trian'")]);
    const flag = await runCli(['train', '--dat', 'x']);
    expect([flag.code, flag.stderr]).toEqual([2, expect.stringContaining("Unknown option '--dat'")]);
    const missing = await runCli(['train', '--ann', 'a.json', '--out', 'r']);
    expect(missing.stderr).toContain('missing required flag --data');
    expect(missing.stderr).not.toMatch(/\n\s+at /);
  });

  it('names the bad value and what was expected', async () => {
    const base = ['train', '--data', dir, '--ann', 'a.json', '--out', join(dir, 'run')];
    expect((await runCli([...base, '--batch-size', 'abc'])).stderr).toContain(
      "--batch-size: expected an integer, got 'abc'",
    );
    expect((await runCli([...base, '--lr=-1'])).stderr).toContain('--lr: must be at least 0, got -1');
    expect((await runCli([...base, '--backend', 'gpu'])).stderr).toContain(
      "--backend: 'gpu' is not one of wasm, cpu, tensorflow",
    );
    expect((await runCli([...base, '--trunk', 'vgg16'])).stderr).toContain("--trunk: 'vgg16' is not one of");
    expect((await runCli([...base, '--replicas', '0'])).stderr).toContain(
      '--replicas: must be at least 1, got 0',
    );
    const cpuReplicas = await runCli([...base, '--backend', 'cpu', '--replicas', '2']);
    expect([cpuReplicas.code, cpuReplicas.stderr]).toEqual([
      2,
      expect.stringContaining('--replicas 2: replicas run the wasm backend; with --backend cpu use 1'),
    ]);
  });

  it('reads flags from --config, with command-line flags on top', async () => {
    const good = file('good.json', JSON.stringify({ trunk: 'tiny', 'batch-size': 'x' }));
    expect((await runCli(['summary', '--config', good])).stderr).toContain(
      "unknown key 'batch-size' for 'summary'",
    );
    const trunk = file('trunk.json', JSON.stringify({ trunk: 'resnet51' }));
    expect((await runCli(['summary', '--config', trunk])).stderr).toContain(
      "--trunk: 'resnet51' is not one of",
    );
    expect((await runCli(['summary', '--config', trunk, '--trunk', 'nope'])).stderr).toContain(
      "--trunk: 'nope'",
    );
    const broken = file('broken.json', '{ "trunk": ');
    expect((await runCli(['summary', '--config', broken])).stderr).toContain(
      `--config: '${broken}' is not valid JSON`,
    );
    expect((await runCli(['summary', '--config', join(dir, 'none.json')])).stderr).toContain('cannot read');
    const array = file('array.json', '[1]');
    expect((await runCli(['summary', '--config', array])).stderr).toContain('must hold a JSON object');
  });

  it('names the bad data file and field', async () => {
    const run = (ann: string) =>
      runCli([
        'train',
        '--backend',
        'cpu',
        '--trunk',
        'tiny',
        '--data',
        dir,
        '--ann',
        ann,
        '--out',
        join(dir, 'run'),
      ]);
    const missing = await run(join(dir, 'missing.json'));
    expect([missing.code, missing.stderr]).toEqual([
      1,
      expect.stringContaining(`--ann: cannot read '${join(dir, 'missing.json')}' (ENOENT)`),
    ]);
    expect((await run(file('bad.json', '{'))).stderr).toContain('is not valid JSON');
    const noImages = await run(file('no-images.json', JSON.stringify({ annotations: [], categories: [] })));
    expect(noImages.stderr).toContain('no-images.json');
    expect(noImages.stderr).toContain('images');
    expect(noImages.stderr).not.toMatch(/\n\s+at /);
    const notDir = await runCli([
      'train',
      '--data',
      join(dir, 'nowhere'),
      '--ann',
      'a.json',
      '--out',
      join(dir, 'run'),
    ]);
    expect([notDir.code, notDir.stderr]).toEqual([
      1,
      expect.stringContaining(`--data: '${join(dir, 'nowhere')}' is not a directory`),
    ]);
  });

  it('names a missing image file of the training data', async () => {
    const { root, data } = await smallDataset();
    rmSync(join(data.train.dir, '000002.jpg'));
    const result = await runCli([
      ...['train', '--backend', 'cpu', '--trunk', 'tiny', '--batch-size', '4', '--max-steps', '3'],
      ...['--data', data.train.dir, '--ann', data.train.ann, '--out', join(root, 'run')],
    ]);
    rmSync(root, { recursive: true, force: true });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`cannot read image '${join(data.train.dir, '000002.jpg')}': ENOENT`);
    expect(result.stderr).not.toMatch(/\n\s+at /);
  });

  it('explains how to get the tensorflow backend when it is not installed', async () => {
    const result = await runCli(['summary', '--trunk', 'tiny', '--backend', 'tensorflow']);
    if (result.code === 0) return; // tfjs-node is installed here: nothing to explain.
    expect(result.stderr).toContain(
      '--backend tensorflow needs @tensorflow/tfjs-node-gpu (CUDA) or @tensorflow/tfjs-node',
    );
    expect(result.stderr).toContain('pnpm --filter @deepmask/trainer add @tensorflow/tfjs-node');
  });
});

describe('summary', () => {
  it('prints the layer table and the parameter counts per part, at the asked input size', async () => {
    const { code, stdout } = await runCli(['summary', '--trunk', 'tiny', '--input', '96']);
    expect(code).toBe(0);
    expect(stdout).toContain('input 96x96x3');
    // conv 3x3, 3 -> 8 channels, stride 2: 3*3*3*8 weights + 8 biases, 48x48 out of 96x96.
    expect(stdout).toMatch(/trunk\/conv1 +conv 3x3\/2 +48x48x8 +224\n/);
    const count = (label: string) =>
      Number(new RegExp(`number of parameters ${label}: ([\\d,]+)`).exec(stdout)?.[1].replace(/,/g, ''));
    const rows = [...stdout.matchAll(/^(trunk|mask|score)\/\S+ .* ([\d,]+)$/gm)];
    const sumOf = (part: string) =>
      rows.filter((r) => r[1] === part).reduce((sum, r) => sum + Number(r[2].replace(/,/g, '')), 0);
    expect(count('trunk')).toBe(sumOf('trunk'));
    expect(count('mask branch')).toBe(sumOf('mask'));
    expect(count('score branch')).toBe(sumOf('score'));
    expect(count('total')).toBe(count('trunk') + count('mask branch') + count('score branch'));
  });
});
