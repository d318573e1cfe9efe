import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import sharp from 'sharp';
import { expect, it } from 'vitest';
import { coordinateImage, syntheticScene } from './synthetic.js';

const packageDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const example = path.join(packageDir, 'examples/contact-sheet.ts');

it('shows the example file in the README as it is', () => {
  const readme = readFileSync(path.join(packageDir, 'README.md'), 'utf8');
  const code = readFileSync(example, 'utf8');
  const block = readme.match(/```ts\n([\s\S]*?)```/)?.[1];
  expect(block).toBe(code.slice(code.indexOf('import ')));
});

it('runs the example on a COCO folder the test writes, giving a contact sheet of the batch', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'deepmask-example-'));
  const scene = syntheticScene();
  for (const image of scene.images) {
    const { data, width, height } = coordinateImage(image.width, image.height);
    await sharp(data, { raw: { width, height, channels: 3 } })
      .png()
      .toFile(path.join(dir, image.fileName));
  }
  const annotationsFile = path.join(dir, 'instances.json');
  writeFileSync(annotationsFile, JSON.stringify(scene.json));
  const sheet = path.join(dir, 'sheet.png');
  const { stdout } = await promisify(execFile)(
    path.join(packageDir, 'node_modules/.bin/tsx'),
    ['--conditions=development', example, annotationsFile, dir, sheet],
    { cwd: packageDir },
  );
  const positives = Number(stdout.match(/batch 0: heads joint, (\d+) positives of 32/)?.[1]);
  expect(positives).toBeGreaterThan(0);
  expect(stdout).toContain(`wrote ${sheet}`);
  // 32 patches of 224 px in rows of 8; each tile's frame is green for a positive, grey for a negative.
  const { data, info } = await sharp(sheet).raw().toBuffer({ resolveWithObject: true });
  expect([info.width, info.height, info.channels]).toEqual([8 * 224, 4 * 224, 3]);
  const frames = Array.from({ length: 32 }, (_, k) => {
    const at = (Math.floor(k / 8) * 224 * info.width + (k % 8) * 224) * 3;
    return Array.from(data.subarray(at, at + 3)).join(',');
  });
  expect(frames.filter((f) => f === '40,220,40').length).toBe(positives);
  expect(frames.filter((f) => f === '128,128,128').length).toBe(32 - positives);
});
