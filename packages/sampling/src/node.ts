import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { ImageDecoder, ImageSource } from './types.js';

type Sharp = typeof import('sharp');

let sharpModule: Promise<Sharp> | undefined;

function loadSharp(): Promise<Sharp> {
  sharpModule ??= import('sharp').then(
    (module) => module.default,
    (error: Error) => {
      throw new Error(
        `sharpDecoder: needs the optional peer dependency 'sharp' (npm install sharp): ${error.message}`,
      );
    },
  );
  return sharpModule;
}

export interface SharpDecoderOptions {
  /**
   * sharp's sensitivity to invalid images. 'error' (default) rejects truncated and undecodable files
   * but, like PIL and OpenCV, accepts the libjpeg warnings that a few COCO images raise; 'warning'
   * rejects those too.
   */
  failOn?: 'none' | 'truncated' | 'error' | 'warning';
}

/**
 * Decodes JPEG, PNG, WebP, TIFF, ... with sharp into 8-bit RGB. No EXIF rotation: COCO annotations
 * are in the stored pixel orientation. Grayscale and CMYK become sRGB; alpha is dropped.
 */
export function sharpDecoder({ failOn = 'error' }: SharpDecoderOptions = {}): ImageDecoder {
  return {
    async decode(bytes, name, options = {}) {
      const sharp = await loadSharp();
      const shrink = options.shrink ?? 1;
      try {
        const pipeline = sharp(bytes, { failOn });
        if (shrink > 1) {
          // libjpeg decodes at 1/2, 1/4 or 1/8 directly (shrink-on-load); the resize then has little left to do.
          const { width, height } = await pipeline.metadata();
          pipeline.resize(Math.ceil(width / shrink), Math.ceil(height / shrink), { fit: 'fill' });
        }
        const { data, info } = await pipeline
          .removeAlpha()
          .toColourspace('srgb')
          .raw({ depth: 'uchar' })
          .toBuffer({ resolveWithObject: true });
        if (info.channels !== 3) throw new Error(`got ${info.channels} channels, expected 3`);
        const pixels = new Uint8Array(data.buffer, data.byteOffset, data.length);
        return { width: info.width, height: info.height, data: pixels, shrink };
      } catch (error) {
        throw new Error(`sharpDecoder: cannot decode '${name}': ${(error as Error).message}`);
      }
    },
  };
}

/** Image files from a folder: `read('x.jpg')` reads `dir/x.jpg`. */
export function directorySource(dir: string): ImageSource {
  return {
    async read(fileName) {
      const file = path.resolve(dir, fileName);
      try {
        return new Uint8Array(await readFile(file));
      } catch (error) {
        throw new Error(`directorySource: cannot read image '${file}': ${(error as Error).message}`);
      }
    },
  };
}
