import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { type BrowserContext, chromium } from 'playwright-core';
import { createServer, type ViteDevServer } from 'vite';

export const APP_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const ARTIFACTS_DIR = path.join(APP_DIR, 'test-artifacts');
const CHROMIUM = '/usr/bin/chromium';

/** `../shared` beside the repository, or `DEEPMASK_SHARED`. */
export function sharedDir(): string {
  return process.env.DEEPMASK_SHARED ?? path.resolve(APP_DIR, '../../../shared');
}

export function chromiumMissing(): string | null {
  try {
    statSync(CHROMIUM);
    return null;
  } catch {
    return `${CHROMIUM} is not installed (apt-get install chromium); skipping the browser tests`;
  }
}

/**
 * The viewer's dev server on a free port, with `staticDirs` served as extra folders
 * (URL prefix -> directory) so the page can fetch files the test made.
 */
export async function startViewer(
  staticDirs: Record<string, string>,
): Promise<{ server: ViteDevServer; url: string }> {
  const server = await createServer({
    root: APP_DIR,
    configFile: path.join(APP_DIR, 'vite.config.ts'),
    logLevel: 'warn',
    clearScreen: false,
    server: { host: '127.0.0.1', port: 0, strictPort: false, hmr: false, watch: null },
    plugins: [
      {
        name: 'test-static-dirs',
        configureServer(dev) {
          dev.middlewares.use((req, res, next) => {
            const url = decodeURIComponent((req.url ?? '').split('?')[0]);
            for (const [prefix, dir] of Object.entries(staticDirs)) {
              if (!url.startsWith(prefix)) continue;
              const file = path.join(dir, url.slice(prefix.length));
              if (!file.startsWith(dir)) break;
              try {
                res.end(readFileSync(file));
              } catch {
                res.statusCode = 404;
                res.end('not found');
              }
              return;
            }
            next();
          });
        },
      },
    ],
  });
  await server.listen();
  const { port } = server.httpServer!.address() as AddressInfo;
  return { server, url: `http://127.0.0.1:${port}/` };
}

/** Debian's Chromium, headless, with a fresh profile (so IndexedDB starts empty). */
export async function launchChromium(): Promise<BrowserContext> {
  await mkdir(ARTIFACTS_DIR, { recursive: true });
  return chromium.launchPersistentContext(mkdtempSync(path.join(tmpdir(), 'deepmask-viewer-profile-')), {
    executablePath: CHROMIUM,
    headless: true,
    viewport: { width: 1280, height: 1000 },
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--disable-quic',
      '--no-first-run',
    ],
  });
}
