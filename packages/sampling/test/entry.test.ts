import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';

const src = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../src');

/** Every module specifier reachable from `file` through relative imports, with the file that imports it. */
function importsFrom(file: string, seen = new Set<string>()): [string, string][] {
  if (seen.has(file)) return [];
  seen.add(file);
  const text = readFileSync(file, 'utf8');
  const found: [string, string][] = [];
  for (const match of text.matchAll(/(?:import|export)[^'"]*from\s+'([^']+)'|import\('([^']+)'\)/g)) {
    const specifier = match[1] ?? match[2];
    if (specifier.startsWith('.'))
      found.push(...importsFrom(path.resolve(path.dirname(file), specifier.replace(/\.js$/, '.ts')), seen));
    else found.push([path.basename(file), specifier]);
  }
  return found;
}

it('keeps sharp and node: modules out of the main and browser entries', () => {
  for (const entry of ['index.ts', 'browser.ts']) {
    const external = importsFrom(path.join(src, entry)).filter(
      ([, s]) => s.startsWith('node:') || s === 'sharp',
    );
    expect(external).toEqual([]);
  }
  expect(importsFrom(path.join(src, 'node.ts')).map(([, s]) => s)).toContain('sharp');
});
