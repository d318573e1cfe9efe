/** Training progress on stderr: a redrawn bar on a TTY, one plain line every `plainEvery` steps otherwise. */
export class ProgressReporter {
  private lastLength = 0;

  constructor(
    private readonly stream: NodeJS.WriteStream = process.stderr,
    private readonly plainEvery = 10,
  ) {}

  get interactive(): boolean {
    return Boolean(this.stream.isTTY);
  }

  update(
    step: number,
    fraction: number | undefined,
    loss: number,
    samplesPerSec: number,
    etaSec: number | undefined,
  ): void {
    const stats = `step ${step}  loss ${loss.toFixed(4)}  ${samplesPerSec.toFixed(1)} samples/s  ETA ${formatDuration(etaSec)}`;
    if (!this.interactive) {
      if (step % this.plainEvery === 0) this.stream.write(`${stats}\n`);
      return;
    }
    const width = 24;
    const filled = fraction === undefined ? 0 : Math.round(Math.min(1, fraction) * width);
    const line = `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${stats}`;
    this.stream.write(`\r${line.padEnd(this.lastLength)}`);
    this.lastLength = line.length;
  }

  /** Progress of a counted task (images evaluated): redrawn on a TTY, every tenth item otherwise. */
  count(label: string, done: number, total: number): void {
    const line = `${label} ${done}/${total}`;
    if (this.interactive) {
      this.stream.write(`\r${line.padEnd(this.lastLength)}`);
      this.lastLength = line.length;
      if (done === total) this.finish();
    } else if (done % 10 === 0 || done === total) {
      this.stream.write(`${line}\n`);
    }
  }

  /** A message on its own line, without breaking the bar. */
  log(message: string): void {
    if (this.interactive && this.lastLength > 0) {
      this.stream.write('\n');
      this.lastLength = 0;
    }
    this.stream.write(`${message}\n`);
  }

  finish(): void {
    if (this.interactive && this.lastLength > 0) this.stream.write('\n');
    this.lastLength = 0;
  }
}

export function formatDuration(seconds: number | undefined): string {
  if (seconds === undefined || !Number.isFinite(seconds)) return '--:--';
  const s = Math.max(0, Math.round(seconds));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const pad = (n: number) => String(n).padStart(2, '0');
  return h > 0 ? `${h}:${pad(m)}:${pad(s % 60)}` : `${pad(m)}:${pad(s % 60)}`;
}
