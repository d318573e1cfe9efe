import type { Rle } from '@deepmask/coco';

/**
 * Pastes `size x size` row-major mask logits covering `patchBox` ([x, y, width, height], image pixels)
 * into a `height x width` image: bilinear resampling (half-pixel centres, edges clamped) at the centre
 * of every image pixel inside the patch, clipped at the image borders, on where the logit exceeds
 * `logitThreshold`. Only the patch's window is computed; the RLE is written from it directly.
 */
export function pasteMaskLogits(
  logits: Float32Array,
  size: number,
  patchBox: readonly [number, number, number, number],
  logitThreshold: number,
  height: number,
  width: number,
): Rle {
  if (logits.length !== size * size) {
    throw new Error(`pasteMask: mask logits hold ${logits.length} values; expected ${size}x${size}`);
  }
  const [x0, y0, patchWidth, patchHeight] = patchBox;
  const cols = windowSamples(x0, patchWidth, size, width);
  const rows = windowSamples(y0, patchHeight, size, height);
  const windowHeight = rows.count;
  // Resample along x first (size source rows -> window columns), then along y per window column.
  const rowResampled = new Float32Array(size * cols.count);
  for (let r = 0; r < size; r++) {
    const src = r * size;
    const dst = r * cols.count;
    for (let c = 0; c < cols.count; c++) {
      const w = cols.weight[c];
      rowResampled[dst + c] = logits[src + cols.low[c]] * (1 - w) + logits[src + cols.high[c]] * w;
    }
  }
  const encoder = new RleWriter(height, width);
  encoder.zeros(cols.first * height);
  for (let c = 0; c < cols.count; c++) {
    encoder.zeros(rows.first);
    for (let r = 0; r < windowHeight; r++) {
      const w = rows.weight[r];
      const value =
        rowResampled[rows.low[r] * cols.count + c] * (1 - w) +
        rowResampled[rows.high[r] * cols.count + c] * w;
      encoder.bit(value > logitThreshold ? 1 : 0);
    }
    encoder.zeros(height - rows.first - windowHeight);
  }
  encoder.zeros((width - cols.first - cols.count) * height);
  return encoder.finish();
}

/**
 * Image pixels `first .. first + count - 1` whose centres lie in `[start, start + extent)` and inside
 * `0 .. limit - 1`, with their two source samples and interpolation weight in a `size` grid over it.
 */
function windowSamples(start: number, extent: number, size: number, limit: number) {
  const first = Math.max(0, Math.ceil(start - 0.5));
  const end = Math.min(limit, Math.ceil(start + extent - 0.5));
  const count = Math.max(0, end - first);
  const low = new Int32Array(count);
  const high = new Int32Array(count);
  const weight = new Float32Array(count);
  for (let k = 0; k < count; k++) {
    const source = Math.min(size - 1, Math.max(0, ((first + k + 0.5 - start) * size) / extent - 0.5));
    low[k] = Math.floor(source);
    high[k] = Math.min(size - 1, low[k] + 1);
    weight[k] = source - low[k];
  }
  return { first, count, low, high, weight };
}

/** Column-major run lengths, starting with a run of zeros, as COCO stores them. */
class RleWriter {
  private counts: number[] = [];
  private value = 0;
  private run = 0;

  constructor(
    private readonly height: number,
    private readonly width: number,
  ) {}

  zeros(n: number): void {
    if (n <= 0) return;
    if (this.value !== 0) this.flip();
    this.run += n;
  }

  bit(b: number): void {
    if (b !== this.value) this.flip();
    this.run += 1;
  }

  finish(): Rle {
    this.counts.push(this.run);
    return { size: [this.height, this.width], counts: Uint32Array.from(this.counts) };
  }

  private flip(): void {
    this.counts.push(this.run);
    this.value ^= 1;
    this.run = 0;
  }
}

/** The logit at which a sigmoid probability equals `probability`. */
export function probabilityToLogit(probability: number, name = 'maskThreshold'): number {
  if (!(probability > 0 && probability < 1)) {
    throw new Error(`pyramid: ${name} is ${probability}; expected a probability strictly between 0 and 1`);
  }
  return Math.log(probability / (1 - probability));
}
