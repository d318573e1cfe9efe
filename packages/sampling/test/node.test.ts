import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { CocoDataset } from '@deepmask/coco';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { createSampler } from '../src/index.js';
import { directorySource, sharpDecoder } from '../src/node.js';
import { instancesJson } from './synthetic.js';

const solid = (channels: 3 | 4, alpha = 1) =>
  sharp({ create: { width: 5, height: 4, channels, background: { r: 200, g: 100, b: 50, alpha } } });

async function decodeAll(bytes: Buffer) {
  const rgb = await sharpDecoder().decode(new Uint8Array(bytes), 'x');
  expect(rgb.data.length).toBe(rgb.width * rgb.height * 3);
  return rgb;
}

function pixel(rgb: { data: Uint8Array }, i = 0): number[] {
  return Array.from(rgb.data.subarray(i * 3, i * 3 + 3));
}

describe('sharpDecoder', () => {
  it('gives RGB for RGB, grayscale, alpha, CMYK and 16-bit inputs', async () => {
    expect(pixel(await decodeAll(await solid(3).png().toBuffer()))).toEqual([200, 100, 50]);
    const gray = await decodeAll(await solid(3).toColourspace('b-w').png().toBuffer());
    const [g] = pixel(gray);
    expect(pixel(gray)).toEqual([g, g, g]);
    expect(pixel(await decodeAll(await solid(4, 0.3).png().toBuffer()))).toEqual([200, 100, 50]);
    const cmyk = await solid(3).toColourspace('cmyk').jpeg({ quality: 100 }).toBuffer();
    expect((await sharp(cmyk).metadata()).space).toBe('cmyk');
    const error = pixel(await decodeAll(cmyk)).map((v, c) => Math.abs(v - [200, 100, 50][c]));
    expect(Math.max(...error)).toBeLessThan(24);
    expect(pixel(await decodeAll(await solid(3).toColourspace('rgb16').png().toBuffer()))).toEqual([
      200, 100, 50,
    ]);
  });

  it('decodes at 1/shrink on request, and says so', async () => {
    const jpeg = await sharp({ create: { width: 100, height: 61, channels: 3, background: '#c86432' } })
      .jpeg({ quality: 100 })
      .toBuffer();
    const quarter = await sharpDecoder().decode(new Uint8Array(jpeg), 'x.jpg', { shrink: 4 });
    expect(quarter).toMatchObject({ width: 25, height: 16, shrink: 4 });
    const error = pixel(quarter, 17).map((v, c) => Math.abs(v - [200, 100, 50][c]));
    expect(Math.max(...error)).toBeLessThan(6);
    expect(await sharpDecoder().decode(new Uint8Array(jpeg), 'x.jpg')).toMatchObject({
      width: 100,
      height: 61,
      shrink: 1,
    });
  });

  it('keeps the stored orientation (no EXIF rotation)', async () => {
    const rotated = await sharp({ create: { width: 40, height: 20, channels: 3, background: '#123456' } })
      .jpeg()
      .withMetadata({ orientation: 6 })
      .toBuffer();
    expect(await decodeAll(rotated)).toMatchObject({ width: 40, height: 20 });
  });

  it('names the file it cannot decode', async () => {
    const jpeg = await solid(3).resize(64, 64).jpeg().toBuffer();
    const decoder = sharpDecoder();
    await expect(
      decoder.decode(new Uint8Array(jpeg.subarray(0, jpeg.length / 2)), 'half.jpg'),
    ).rejects.toThrow(/cannot decode 'half\.jpg'.*premature end/);
    await expect(decoder.decode(new TextEncoder().encode('not an image'), 'text.jpg')).rejects.toThrow(
      /cannot decode 'text\.jpg'.*unsupported image format/,
    );
  });
});

describe('directorySource and a real folder', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'deepmask-sampling-'));

  it('names the missing path', async () => {
    await expect(directorySource(dir).read('nope.jpg')).rejects.toThrow(
      new RegExp(`cannot read image '${path.join(dir, 'nope.jpg').replace(/[.]/g, '\\.')}'.*ENOENT`),
    );
  });

  it('fails a batch on a corrupt JPEG with its name, or skips it with a warning', async () => {
    const good = await solid(3).resize(60, 50).jpeg().toBuffer();
    writeFileSync(path.join(dir, 'good.jpg'), good);
    writeFileSync(path.join(dir, 'corrupt.jpg'), good.subarray(0, 200));
    const json = instancesJson(
      [
        { id: 1, fileName: 'good.jpg', width: 60, height: 50 },
        { id: 2, fileName: 'corrupt.jpg', width: 60, height: 50 },
      ],
      [{ id: 5, imageId: 2, categoryId: 1, polygon: [10, 10, 40, 10, 40, 40, 10, 40] }],
      [1],
    );
    const make = (onBadImage: 'error' | 'skip') =>
      createSampler({
        dataset: CocoDataset.fromJson(json, 'folder.json'),
        images: directorySource(dir),
        decoder: sharpDecoder(),
        config: {
          inputSizePx: 32,
          maskSizePx: 8,
          batchSize: 8,
          positiveFraction: 0,
          meanColour: [0, 0, 0],
          onBadImage,
        },
        seed: 3,
      });
    await expect(make('error').batch(0)).rejects.toThrow(/cannot decode 'corrupt\.jpg'/);
    const skipping = make('skip');
    const batch = await skipping.batch(0);
    expect(batch.samples.every((p) => p.fileName === 'good.jpg')).toBe(true);
    expect(skipping.warnings).toEqual([
      expect.objectContaining({ kind: 'bad-image', fileName: 'corrupt.jpg' }),
    ]);
    // Only negatives were asked for; positives of the one object cannot be drawn from a skipped image.
    expect(readFileSync(path.join(dir, 'good.jpg')).length).toBe(good.length);
  });
});
