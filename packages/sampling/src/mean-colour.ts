import type { CocoImage } from '@deepmask/coco';
import type { Rgb } from './config.js';
import type { RgbImage } from './types.js';

/**
 * The dataset's mean colour, the padding outside an image: the average of the mean RGB of `count`
 * images spread evenly over `images` (those that `load` gives null for are left out).
 */
export async function estimateMeanColour(
  images: readonly CocoImage[],
  count: number,
  load: (image: CocoImage) => Promise<RgbImage | null>,
): Promise<Rgb> {
  const chosen = Array.from(
    { length: Math.min(count, images.length) },
    (_, i) => images[Math.floor(((i + 0.5) * images.length) / Math.min(count, images.length))],
  );
  const means = (await Promise.all(chosen.map(load))).filter((rgb) => rgb !== null).map(meanOf);
  if (means.length === 0) throw new Error('sampling: no image could be read to estimate the mean colour');
  return [0, 1, 2].map((c) => means.reduce((sum, mean) => sum + mean[c], 0) / means.length) as Rgb;
}

function meanOf(image: RgbImage): Rgb {
  const sums = [0, 0, 0];
  const { data } = image;
  for (let i = 0; i < data.length; i += 3) {
    sums[0] += data[i];
    sums[1] += data[i + 1];
    sums[2] += data[i + 2];
  }
  const pixels = data.length / 3;
  return [sums[0] / pixels, sums[1] / pixels, sums[2] / pixels];
}
