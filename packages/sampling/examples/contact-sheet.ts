/**
 * Opens a COCO folder, samples one batch and writes it as a PNG contact sheet: positives with their
 * mask target tinted red and a green frame, negatives with a grey frame.
 * Usage: tsx --conditions=development examples/contact-sheet.ts <instances.json> <image dir> <out.png> [seed]
 */
import { readFile } from 'node:fs/promises';
import { CocoDataset } from '@deepmask/coco';
import { createSampler, type PatchBatch } from '@deepmask/sampling';
import { directorySource, sharpDecoder } from '@deepmask/sampling/node';
import sharp from 'sharp';

const [annotationsFile, imageDir, outFile, seed = '1'] = process.argv.slice(2);
if (outFile === undefined) {
  console.error('usage: contact-sheet <instances.json> <image dir> <out.png> [seed]');
  process.exit(2);
}

const dataset = CocoDataset.fromJson(await readFile(annotationsFile, 'utf8'), annotationsFile);
const sampler = createSampler({
  dataset,
  images: directorySource(imageDir),
  decoder: sharpDecoder(),
  config: { inputSizePx: 224, maskSizePx: 56, batchSize: 32 },
  seed: Number(seed),
});
const batch = await sampler.batch(0);
console.log(
  `batch 0: heads ${batch.heads}, ${batch.labels.filter((l) => l > 0).length} positives of ${batch.labels.length}`,
);
for (const warning of sampler.warnings) console.warn(warning.message);
await writeContactSheet(batch, sampler.config.inputSizePx, sampler.config.labelSizePx, outFile);
console.log(`wrote ${outFile}`);

/** Patches in rows of 8, the mask target tinted onto positives, a coloured frame saying the label. */
async function writeContactSheet(
  batch: PatchBatch,
  size: number,
  labelSize: number,
  file: string,
): Promise<void> {
  const n = batch.labels.length;
  const columns = 8;
  const rows = Math.ceil(n / columns);
  const width = columns * size;
  const sheet = new Uint8Array(width * rows * size * 3);
  for (let k = 0; k < n; k++) {
    const positive = batch.labels[k] > 0;
    const left = (k % columns) * size;
    const top = Math.floor(k / columns) * size;
    for (let y = 0; y < size; y++) {
      for (let x = 0; x < size; x++) {
        const from = ((k * size + y) * size + x) * 3;
        const to = ((top + y) * width + left + x) * 3;
        const label = Math.floor((y * labelSize) / size) * labelSize + Math.floor((x * labelSize) / size);
        const inMask = positive && batch.maskTargets[k * labelSize * labelSize + label] > 0;
        const frame = x < 3 || y < 3 || x >= size - 3 || y >= size - 3;
        const rgb = [0, 1, 2].map((c) => batch.patches[from + c]);
        const colour = frame
          ? positive
            ? [40, 220, 40]
            : [128, 128, 128]
          : inMask
            ? [0.5 * rgb[0] + 127, 0.5 * rgb[1], 0.5 * rgb[2]]
            : rgb;
        sheet.set(colour.map(Math.round), to);
      }
    }
  }
  await sharp(sheet, { raw: { width, height: rows * size, channels: 3 } })
    .png()
    .toFile(file);
}
