import * as tf from '@tensorflow/tfjs-core';

/** An opened image: its pixels for drawing and as the `[H, W, 3]` int32 tensor the pyramid takes. */
export interface LoadedImage {
  name: string;
  width: number;
  height: number;
  /** RGBA, straight from the decoder: no colour-space conversion, no premultiplication. */
  pixels: ImageData;
}

export async function decodeImage(blob: Blob, name: string): Promise<LoadedImage> {
  let bitmap: ImageBitmap;
  try {
    bitmap = await createImageBitmap(blob, { colorSpaceConversion: 'none', premultiplyAlpha: 'none' });
  } catch (error) {
    throw new Error(
      `image "${name}" could not be decoded (${blob.type || 'unknown type'}): ${String(error)}`,
    );
  }
  const canvas = new OffscreenCanvas(bitmap.width, bitmap.height);
  const context = canvas.getContext('2d', { willReadFrequently: true })!;
  context.drawImage(bitmap, 0, 0);
  bitmap.close();
  const pixels = context.getImageData(0, 0, canvas.width, canvas.height);
  return { name, width: canvas.width, height: canvas.height, pixels };
}

/** The image as the pyramid's input: raw 0..255 RGB, `[H, W, 3]` int32. */
export function imageTensor(image: LoadedImage): tf.Tensor3D {
  const { width, height, pixels } = image;
  const rgb = new Int32Array(width * height * 3);
  for (let p = 0; p < width * height; p++) {
    rgb[3 * p] = pixels.data[4 * p];
    rgb[3 * p + 1] = pixels.data[4 * p + 1];
    rgb[3 * p + 2] = pixels.data[4 * p + 2];
  }
  return tf.tensor3d(rgb, [height, width, 3], 'int32');
}

export function isImageFile(file: File): boolean {
  return file.type.startsWith('image/') || /\.(png|jpe?g|gif|bmp|webp)$/i.test(file.name);
}
