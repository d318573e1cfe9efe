import { rleToRowMajor } from '@deepmask/coco';
import type { Proposal } from '@deepmask/pyramid';
import type { RgbImage } from '@deepmask/sampling';
import sharp from 'sharp';

const PALETTE: [number, number, number][] = [
  [230, 25, 75],
  [60, 180, 75],
  [255, 225, 25],
  [0, 130, 200],
  [245, 130, 48],
  [145, 30, 180],
  [70, 240, 240],
  [240, 50, 230],
];

/** The image with `proposals` (best first) as translucent coloured masks with solid outlines, as a PNG. */
export async function writeOverlayPng(
  path: string,
  image: RgbImage,
  proposals: readonly Proposal[],
): Promise<void> {
  const { width, height } = image;
  const pixels = Uint8Array.from(image.data);
  // Worst first, so that the best proposal is drawn on top.
  for (let k = proposals.length - 1; k >= 0; k--) {
    const mask = rleToRowMajor(proposals[k].rle);
    const colour = PALETTE[k % PALETTE.length];
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        const p = y * width + x;
        if (!mask[p]) continue;
        const edge =
          x === 0 ||
          y === 0 ||
          x === width - 1 ||
          y === height - 1 ||
          !mask[p - 1] ||
          !mask[p + 1] ||
          !mask[p - width] ||
          !mask[p + width];
        const alpha = edge ? 1 : 0.45;
        for (let c = 0; c < 3; c++)
          pixels[3 * p + c] = Math.round(pixels[3 * p + c] * (1 - alpha) + colour[c] * alpha);
      }
    }
  }
  await sharp(pixels, { raw: { width, height, channels: 3 } })
    .png()
    .toFile(path);
}
