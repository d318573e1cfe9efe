import { describe, expect, it } from 'vitest';
import { ImageStore } from '../src/image-store.js';
import { LruCache } from '../src/lru.js';
import { coordinateImage, memoryImages } from './synthetic.js';

describe('LruCache', () => {
  it('keeps its total size within the budget, forgetting the least recently used first', () => {
    const cache = new LruCache<string, number[]>(10, (value) => value.length);
    cache.set('a', [1, 2, 3, 4]);
    cache.set('b', [1, 2, 3, 4]);
    expect(cache.get('a')).toEqual([1, 2, 3, 4]); // 'a' is now more recent than 'b'
    cache.set('c', [1, 2, 3]);
    expect(cache.size).toBe(7);
    expect(cache.get('b')).toBeUndefined();
    expect(cache.get('a')).toBeDefined();
    expect(cache.get('c')).toBeDefined();
    cache.set('huge', new Array(11).fill(0)); // larger than the whole budget: not kept, nothing evicted
    expect(cache.get('huge')).toBeUndefined();
    expect(cache.size).toBe(7);
  });
});

describe('ImageStore', () => {
  // 40 x 30 RGB: 3600 bytes a decoded image.
  const names = ['a.png', 'b.png', 'c.png'];
  const images = names.map((fileName, i) => ({ id: i + 1, file_name: fileName, width: 40, height: 30 }));
  const pictures = Object.fromEntries(names.map((name) => [name, coordinateImage(40, 30)]));

  it('decodes each image once while it fits the byte budget, and again once evicted', async () => {
    const files = memoryImages(pictures);
    const store = new ImageStore(files.source, files.decoder, 2 * 3600);
    await Promise.all([store.get(images[0]), store.get(images[0])]); // concurrent requests share one read
    await store.get(images[1]);
    await store.get(images[0]);
    expect(files.reads.get('a.png')).toBe(1);
    await store.get(images[2]); // evicts b, the least recently used
    await store.get(images[0]);
    await store.get(images[1]);
    expect([...files.reads.values()]).toEqual([1, 2, 1]);
  });

  it('keeps each shrink of an image apart', async () => {
    const files = memoryImages(pictures);
    const store = new ImageStore(files.source, files.decoder, 2 ** 20);
    expect(await store.get(images[0], 2)).toMatchObject({ width: 20, height: 15, shrink: 2 });
    expect(await store.get(images[0], 1)).toMatchObject({ width: 40, height: 30 });
    expect(await store.get(images[0], 2)).toMatchObject({ width: 20 });
    expect(files.reads.get('a.png')).toBe(2);
  });

  it('remembers a failure instead of reading the file again', async () => {
    const files = memoryImages(pictures, { corrupt: ['b.png'] });
    const store = new ImageStore(files.source, files.decoder, 2 ** 20);
    await expect(store.get(images[1])).rejects.toThrow(/cannot decode 'b\.png'/);
    await expect(store.get(images[1], 4)).rejects.toThrow(/cannot decode 'b\.png'/);
    expect(files.reads.get('b.png')).toBe(1);
  });

  it('names a decoder that does not give RGB', async () => {
    const rgba = { width: 40, height: 30, data: new Uint8Array(40 * 30 * 4) };
    const files = memoryImages({ 'a.png': rgba });
    const store = new ImageStore(files.source, files.decoder, 2 ** 20);
    await expect(store.get(images[0])).rejects.toThrow(/4800 bytes for 'a\.png' \(40x30\); expected 3600/);
  });
});
