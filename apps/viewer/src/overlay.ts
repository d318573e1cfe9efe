import type { Rle } from '@deepmask/coco';

export type Rgb = [number, number, number];

export interface MaskLayer {
  rle: Rle;
  color: Rgb;
  /** Text drawn at the box's corner (a score or a category name), drawn as canvas text. */
  label?: string;
  bbox?: [number, number, number, number];
}

/**
 * Draws `image` and, over it, each layer's mask in its colour at `alpha`; later layers cover earlier
 * ones, so pass the most important last. Boxes and labels go on top.
 */
export function drawScene(
  canvas: HTMLCanvasElement,
  image: ImageData,
  layers: MaskLayer[],
  alpha: number,
): void {
  canvas.width = image.width;
  canvas.height = image.height;
  const context = canvas.getContext('2d', { willReadFrequently: true })!;
  context.putImageData(image, 0, 0);
  const paint = new ImageData(image.width, image.height);
  const opacity = Math.round(255 * alpha);
  for (const layer of layers) paintRle(paint, layer.rle, layer.color, opacity);
  const overlay = new OffscreenCanvas(image.width, image.height);
  overlay.getContext('2d')!.putImageData(paint, 0, 0);
  context.drawImage(overlay, 0, 0);
  context.font = `${Math.max(11, Math.round(image.width / 50))}px sans-serif`;
  context.lineWidth = Math.max(1, image.width / 400);
  for (const layer of layers) {
    if (!layer.bbox) continue;
    const [x, y, w, h] = layer.bbox;
    context.strokeStyle = `rgb(${layer.color.join(',')})`;
    context.strokeRect(x + 0.5, y + 0.5, w, h);
    if (layer.label) {
      const textWidth = context.measureText(layer.label).width;
      const textHeight = parseInt(context.font, 10);
      const top = Math.max(0, y - textHeight - 2);
      context.fillStyle = `rgb(${layer.color.join(',')})`;
      context.fillRect(x, top, textWidth + 4, textHeight + 2);
      context.fillStyle = '#fff';
      context.fillText(layer.label, x + 2, top + textHeight - 1);
    }
  }
}

/** Paints the on-pixels of a column-major COCO RLE into an RGBA buffer. */
function paintRle(target: ImageData, rle: Rle, [r, g, b]: Rgb, opacity: number): void {
  const [height, width] = rle.size;
  if (height !== target.height || width !== target.width) {
    throw new Error(`mask of ${height}x${width} does not fit an image of ${target.height}x${target.width}`);
  }
  const data = target.data;
  let position = 0;
  for (let k = 0; k < rle.counts.length; k++) {
    const run = rle.counts[k];
    if (k % 2 === 1) {
      for (let p = position; p < position + run; p++) {
        const offset = 4 * ((p % height) * width + Math.floor(p / height));
        data[offset] = r;
        data[offset + 1] = g;
        data[offset + 2] = b;
        data[offset + 3] = opacity;
      }
    }
    position += run;
  }
}
