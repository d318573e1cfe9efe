/** Synthetic scenes of filled squares on a textured background, and their encodings for upload. */

export interface RgbImage {
  width: number;
  height: number;
  /** Row-major RGB. */
  data: Uint8Array;
}

export interface Square {
  /** Top-left corner and side, in pixels. */
  x: number;
  y: number;
  side: number;
  color: [number, number, number];
}

/** A deterministic pseudo-random stream (mulberry32) so every run draws the same scenes. */
export function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Mid-grey background with a little noise (so that no two patch scores tie), squares painted on top. */
export function drawSquares(width: number, height: number, squares: Square[], seed: number): RgbImage {
  const next = random(seed);
  const data = new Uint8Array(width * height * 3);
  for (let p = 0; p < width * height; p++) {
    const base = 100 + Math.floor(next() * 24);
    data.set([base, base + 4, base + 8], 3 * p);
  }
  for (const { x, y, side, color } of squares) {
    for (let row = Math.max(0, y); row < Math.min(height, y + side); row++) {
      for (let col = Math.max(0, x); col < Math.min(width, x + side); col++)
        data.set(color, 3 * (row * width + col));
    }
  }
  return { width, height, data };
}

/** An uncompressed 24-bit BMP: decoded by every browser bit-exactly, with no colour management. */
export function encodeBmp({ width, height, data }: RgbImage): Buffer {
  const rowBytes = Math.ceil((width * 3) / 4) * 4;
  const file = Buffer.alloc(54 + rowBytes * height);
  file.write('BM', 0, 'ascii');
  file.writeUInt32LE(file.length, 2);
  file.writeUInt32LE(54, 10);
  file.writeUInt32LE(40, 14);
  file.writeInt32LE(width, 18);
  file.writeInt32LE(height, 22);
  file.writeUInt16LE(1, 26);
  file.writeUInt16LE(24, 28);
  file.writeUInt32LE(rowBytes * height, 34);
  for (let y = 0; y < height; y++) {
    const rowStart = 54 + (height - 1 - y) * rowBytes;
    for (let x = 0; x < width; x++) {
      const source = 3 * (y * width + x);
      file[rowStart + 3 * x] = data[source + 2];
      file[rowStart + 3 * x + 1] = data[source + 1];
      file[rowStart + 3 * x + 2] = data[source];
    }
  }
  return file;
}
