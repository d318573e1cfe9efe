import type { CocoImage } from '@deepmask/coco';
import { LruCache } from './lru.js';
import type { ImageDecoder, ImageSource, RgbImage } from './types.js';

/** The file name of an image, which COCO makes optional but sampling needs. */
export function fileNameOf(image: CocoImage): string {
  if (image.file_name === undefined) throw new Error(`sampling: image id ${image.id} has no "file_name"`);
  return image.file_name;
}

/**
 * Decoded images by id, read once and kept in a byte-bounded LRU cache. An image that cannot be read,
 * decoded, or whose size disagrees with the instances file fails with an error naming its file; the
 * failure is remembered, so a bad file is tried once.
 */
export class ImageStore {
  private readonly decoded: LruCache<number, RgbImage>;
  private readonly pending = new Map<number, Promise<RgbImage>>();
  private readonly failures = new Map<number, Error>();

  constructor(
    private readonly source: ImageSource,
    private readonly decoder: ImageDecoder,
    cacheBytes: number,
  ) {
    this.decoded = new LruCache(cacheBytes, (image) => image.data.byteLength);
  }

  get(image: CocoImage): Promise<RgbImage> {
    const failure = this.failures.get(image.id);
    if (failure !== undefined) return Promise.reject(failure);
    const cached = this.decoded.get(image.id);
    if (cached !== undefined) return Promise.resolve(cached);
    let loading = this.pending.get(image.id);
    if (loading === undefined) {
      loading = this.load(image).then(
        (rgb) => {
          this.pending.delete(image.id);
          this.decoded.set(image.id, rgb);
          return rgb;
        },
        (error: Error) => {
          this.pending.delete(image.id);
          this.failures.set(image.id, error);
          throw error;
        },
      );
      this.pending.set(image.id, loading);
    }
    return loading;
  }

  /** Bytes of decoded pixels held now. */
  get cachedBytes(): number {
    return this.decoded.size;
  }

  private async load(image: CocoImage): Promise<RgbImage> {
    const fileName = fileNameOf(image);
    const rgb = await this.decoder.decode(await this.source.read(fileName), fileName);
    if (rgb.width !== image.width || rgb.height !== image.height) {
      throw new Error(
        `sampling: image '${fileName}' (id ${image.id}) decodes to ${rgb.width}x${rgb.height}, ` +
          `but the instances file says ${image.width}x${image.height}`,
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
