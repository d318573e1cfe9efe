import { type ChildProcessWithoutNullStreams, spawn, spawnSync } from 'node:child_process';
import { createInterface, type Interface } from 'node:readline';

/**
 * bench/torch_deepmask.py as a worker, one JSON line per request and per reply, so that the bench can
 * alternate single runs of wasm and PyTorch. `start()` returns null where python3-torch is not installed.
 */
export class TorchWorker {
  private readonly replies: AsyncIterator<string>;

  private constructor(
    private readonly child: ChildProcessWithoutNullStreams,
    lines: Interface,
  ) {
    this.replies = lines[Symbol.asyncIterator]();
  }

  static start(script: string): TorchWorker | null {
    const probe = spawnSync('/usr/bin/python3', ['-c', 'import torch'], { encoding: 'utf8' });
    if (probe.status !== 0) return null;
    const child = spawn('/usr/bin/python3', [script]);
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    child.on('exit', (code) => {
      if (code !== 0 && code !== null) console.error(`${script} exited with ${code}: ${stderr}`);
    });
    return new TorchWorker(child, createInterface({ input: child.stdout }));
  }

  async request<T>(message: object): Promise<T> {
    this.child.stdin.write(`${JSON.stringify(message)}\n`);
    const { value, done } = await this.replies.next();
    if (done) throw new Error(`torch worker ended before answering ${JSON.stringify(message)}`);
    return JSON.parse(value) as T;
  }

  /** Mean wall time (ms) of `repeat` back-to-back calls of `measure` of the last case or ceiling set up. */
  async runMs(measure: string, repeat: number): Promise<number> {
    return (await this.request<{ ms: number }>({ op: 'run', measure, repeat })).ms;
  }

  /** Ends the worker and waits for its process (and its threads) to be gone. */
  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = new Promise((resolve) => this.child.once('exit', resolve));
    this.child.stdin.end();
    await exited;
  }
}
