import type { CocoImage } from '@deepmask/coco';
import { LruCache } from './lru.js';
import type { ImageDecoder, ImageSource, RgbImage } from './types.js';

/** The file name of an image, which COCO makes optional but sampling needs. */
export function fileNameOf(image: CocoImage): string {
  if (image.file_name === undefined) throw new Error(`sampling: image id ${image.id} has no "file_name"`);
  return image.file_name;
}

/** The largest decode shrink (a power of 2 up to `maxShrink`) that still gives a patch of `scale` >= 1 pixel a pixel. */
export function shrinkFor(scale: number, maxShrink: number): number {
  return 2 ** Math.max(0, Math.min(Math.log2(maxShrink), Math.floor(-Math.log2(scale))));
}

/**
 * Decoded images by id and shrink, read once and kept in a byte-bounded LRU cache. An image that
 * cannot be read, decoded, or whose size disagrees with the instances file fails with an error naming
 * its file; the failure is remembered, so a bad file is not read again.
 */
export class ImageStore {
  private readonly decoded: LruCache<string, RgbImage>;
  private readonly pending = new Map<string, Promise<RgbImage>>();
  private readonly failures = new Map<number, Error>();

  constructor(
    private readonly source: ImageSource,
    private readonly decoder: ImageDecoder,
    cacheBytes: number,
  ) {
    this.decoded = new LruCache(cacheBytes, (image) => image.data.byteLength);
  }

  /** The image at 1/shrink of its size, or at full size if the decoder does not shrink (see `RgbImage.shrink`). */
  get(image: CocoImage, shrink = 1): Promise<RgbImage> {
    const failure = this.failures.get(image.id);
    if (failure !== undefined) return Promise.reject(failure);
    const key = `${image.id}/${shrink}`;
    const cached = this.decoded.get(key);
    if (cached !== undefined) return Promise.resolve(cached);
    let loading = this.pending.get(key);
    if (loading === undefined) {
      loading = this.load(image, shrink).then(
        (rgb) => {
          this.pending.delete(key);
          this.decoded.set(key, rgb);
          return rgb;
        },
        (error: Error) => {
          this.pending.delete(key);
          this.failures.set(image.id, error);
          throw error;
        },
      );
      this.pending.set(key, loading);
    }
    return loading;
  }

  private async load(image: CocoImage, shrink: number): Promise<RgbImage> {
    const fileName = fileNameOf(image);
    const bytes = await this.source.read(fileName);
    const rgb = await this.decoder.decode(bytes, fileName, shrink === 1 ? undefined : { shrink });
    const applied = rgb.shrink ?? 1;
    if (rgb.width !== Math.ceil(image.width / applied) || rgb.height !== Math.ceil(image.height / applied)) {
      throw new Error(
        `sampling: image '${fileName}' (id ${image.id}) decodes to ${rgb.width}x${rgb.height}` +
          (applied === 1 ? '' : ` at 1/${applied}`) +
          `, but the instances file says ${image.width}x${image.height}`,
      );
    }
    if (rgb.data.length !== rgb.width * rgb.height * 3) {
      throw new Error(
        `sampling: decoder gave ${rgb.data.length} bytes for '${fileName}' (${rgb.width}x${rgb.height}); ` +
          `expected ${rgb.width * rgb.height * 3} (RGB)`,
      );
    }
    return rgb;
  }
}
