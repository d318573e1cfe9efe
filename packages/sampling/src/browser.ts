import type { ImageDecoder, ImageSource } from './types.js';

function canvasContext(
  width: number,
  height: number,
): OffscreenCanvasRenderingContext2D | CanvasRenderingContext2D {
  const canvas =
    typeof OffscreenCanvas !== 'undefined'
      ? new OffscreenCanvas(width, height)
      : Object.assign(document.createElement('canvas'), { width, height });
  const context = canvas.getContext('2d', { willReadFrequently: true });
  if (context === null) throw new Error('browserDecoder: no 2D canvas context');
  return context as OffscreenCanvasRenderingContext2D | CanvasRenderingContext2D;
}

/**
 * Decodes with the browser's own codecs (createImageBitmap, then a canvas) into RGB, alpha dropped,
 * shrunk by the canvas on request. `imageOrientation: 'none'` asks for the stored orientation, which
 * COCO annotations use.
 */
export function browserDecoder(): ImageDecoder {
  return {
    async decode(bytes, name, options = {}) {
      const shrink = options.shrink ?? 1;
      let bitmap: ImageBitmap;
      try {
        bitmap = await createImageBitmap(new Blob([bytes as Uint8Array<ArrayBuffer>]), {
          imageOrientation: 'none',
          premultiplyAlpha: 'none',
          colorSpaceConversion: 'none',
        });
      } catch (error) {
        throw new Error(`browserDecoder: cannot decode '${name}': ${(error as Error).message}`);
      }
      const width = Math.ceil(bitmap.width / shrink);
      const height = Math.ceil(bitmap.height / shrink);
      const context = canvasContext(width, height);
      context.imageSmoothingQuality = 'high';
      context.drawImage(bitmap, 0, 0, width, height);
      bitmap.close();
      const rgba = context.getImageData(0, 0, width, height).data;
      const data = new Uint8Array(width * height * 3);
      for (let i = 0, o = 0; i < rgba.length; i += 4) {
        data[o++] = rgba[i];
        data[o++] = rgba[i + 1];
        data[o++] = rgba[i + 2];
      }
      return { width, height, data, shrink };
    },
  };
}

/** Image files the user picked (an `<input type="file" multiple>` or a dropped folder), by file name. */
export function fileListSource(files: Iterable<File> | ArrayLike<File>): ImageSource {
  const byName = new Map<string, File>();
  for (const file of Array.from(files)) byName.set(file.name, file);
  return {
    async read(fileName) {
      const file = byName.get(fileName) ?? byName.get(fileName.split('/').pop()!);
      if (file === undefined) {
        throw new Error(`fileListSource: no file '${fileName}' among the ${byName.size} files given`);
      }
      return new Uint8Array(await file.arrayBuffer());
    },
  };
}
