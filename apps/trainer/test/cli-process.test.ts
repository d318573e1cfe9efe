import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { smallDataset } from './fixtures.js';

const appDir = join(dirname(fileURLToPath(import.meta.url)), '..');
const cli = join(appDir, 'dist', 'cli.js');

/** Whether `dist/cli.js` predates a source file (the packages' dist are built before tests by turbo). */
function distIsStale(): boolean {
  if (!existsSync(cli)) return true;
  const built = statSync(cli).mtimeMs;
  const sources = readdirSync(join(appDir, 'src'), { recursive: true, encoding: 'utf8' });
  return sources.some((file) => statSync(join(appDir, 'src', file)).mtimeMs > built);
}

let fixture: Awaited<ReturnType<typeof smallDataset>>;
beforeAll(async () => {
  if (distIsStale()) {
    await promisify(execFile)('pnpm', ['turbo', 'run', 'build', '--filter=@deepmask/trainer...'], {
      cwd: join(appDir, '..', '..'),
    });
  }
  fixture = await smallDataset();
}, 180_000);
afterAll(() => rmSync(fixture.root, { recursive: true, force: true }));

interface Exit {
  code: number | null;
  stdout: string;
  stderr: string;
}

function start(args: string[]): { child: ChildProcess; exit: Promise<Exit> } {
  const child = spawn(process.execPath, [cli, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (chunk) => (stdout += chunk));
  child.stderr!.on('data', (chunk) => (stderr += chunk));
  const exit = new Promise<Exit>((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })));
  return { child, exit };
}

const runBuilt = (args: string[]) => start(args).exit;

function trainArgs(out: string): string[] {
  const { train } = fixture.data;
  return [
    ...['train', '--data', train.dir, '--ann', train.ann, '--out', out],
    ...['--trunk', 'tiny', '--batch-size', '4', '--backend', 'cpu'],
  ];
}

describe('the built deepmask CLI', () => {
  it('prints --help of every command and exits 0', async () => {
    const helps = await Promise.all(
      ['demo', 'train', 'eval', 'infer', 'summary'].map((name) => runBuilt([name, '--help'])),
    );
    for (const [i, name] of ['demo', 'train', 'eval', 'infer', 'summary'].entries()) {
      expect(helps[i].code, name).toBe(0);
      expect(helps[i].stdout).toMatch(new RegExp(`^Usage: deepmask ${name}`, 'm'));
      expect(helps[i].stdout).toContain('--config <string>');
    }
  });

  it('exits when its work is done on the wasm backend, whose worker threads would keep Node alive', async () => {
    const started = Date.now();
    const { code, stdout } = await runBuilt(['summary', '--trunk', 'tiny', '--backend', 'wasm']);
    expect(code).toBe(0);
    expect(stdout).toMatch(/number of parameters total: [\d,]+\n$/);
    expect(Date.now() - started).toBeLessThan(20_000);
  });

  it('exits 2 on a bad argument, naming it, and 1 on a missing backend package', async () => {
    const [bad, tensorflow] = await Promise.all([
      runBuilt(['summary', '--input', 'big']),
      runBuilt(['summary', '--trunk', 'tiny', '--backend', 'tensorflow']),
    ]);
    expect([bad.code, bad.stderr]).toEqual([
      2,
      "deepmask summary: --input: expected an integer, got 'big'\nRun 'deepmask summary --help' for usage.\n",
    ]);
    // tfjs-node is not a dependency: its install downloads libtensorflow.
    expect(existsSync(join(appDir, 'node_modules', '@tensorflow', 'tfjs-node'))).toBe(false);
    expect(tensorflow.code).toBe(1);
    expect(tensorflow.stderr).toContain(
      '--backend tensorflow needs @tensorflow/tfjs-node-gpu (CUDA) or @tensorflow/tfjs-node installed',
    );
    expect(tensorflow.stderr).not.toMatch(/\n\s+at /);
  });

  it.each([
    ['in the main thread', ['--backend', 'cpu']],
    ['in 2 replicas on wasm', ['--backend', 'wasm', '--replicas', '2']],
  ])('on SIGINT finishes the step, writes a final checkpoint and exits 130 (%s)', async (_, flags) => {
    const out = join(fixture.root, `sigint-${flags.join('')}`);
    const { child, exit } = start([...trainArgs(out), '--checkpoint-every', '0', ...flags]);
    const metrics = join(out, 'metrics.jsonl');
    while (!existsSync(metrics) || readFileSync(metrics, 'utf8').split('\n').length < 3) {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    child.kill('SIGINT');
    const { code, stdout, stderr } = await exit;
    expect(stderr).toContain('interrupted: writing a final checkpoint');
    expect(code).toBe(130);
    const stoppedAt = Number(/stopped \(interrupted\) at step (\d+)/.exec(stdout)?.[1]);
    expect(stoppedAt).toBeGreaterThanOrEqual(2);
    const state = JSON.parse(readFileSync(join(out, 'checkpoint', 'state.json'), 'utf8'));
    expect([state.step, state.samplerIndex]).toEqual([stoppedAt, stoppedAt]);
  });

  it('stops cleanly at --max-minutes with a final checkpoint', async () => {
    const out = join(fixture.root, 'budget');
    const started = Date.now();
    const { code, stdout } = await runBuilt([...trainArgs(out), '--max-minutes', '0.05']);
    expect(code).toBe(0);
    const stoppedAt = Number(/stopped \(max-minutes\) at step (\d+)/.exec(stdout)?.[1]);
    expect(stoppedAt).toBeGreaterThan(0);
    expect(Date.now() - started).toBeLessThan(20_000);
    const state = JSON.parse(readFileSync(join(out, 'checkpoint', 'state.json'), 'utf8'));
    expect(state.step).toBe(stoppedAt);
    expect(state.elapsedSec).toBeGreaterThanOrEqual(3);
  });
});
