import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { defaultClientConditions, defineConfig, type Plugin } from 'vite';

/** Where the page fetches tfjs-backend-wasm's binaries from (see `src/backend.ts`). */
const WASM_DIR_URL = 'tfjs-wasm/';

const WASM_FILES = [
  'tfjs-backend-wasm.wasm',
  'tfjs-backend-wasm-simd.wasm',
  'tfjs-backend-wasm-threaded-simd.wasm',
];

function wasmDistDir(): string {
  const require = createRequire(import.meta.url);
  return path.join(path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json')), 'dist');
}

/**
 * Serves tfjs-backend-wasm's .wasm files from node_modules in dev, and emits them into the build,
 * so the binaries are never committed.
 */
function tfjsWasmFiles(): Plugin {
  const dir = wasmDistDir();
  return {
    name: 'deepmask-tfjs-wasm-files',
    configureServer(server) {
      server.middlewares.use(async (req, res, next) => {
        const url = (req.url ?? '').split('?')[0];
        const prefix = server.config.base + WASM_DIR_URL;
        const name = url.startsWith(prefix) ? url.slice(prefix.length) : '';
        if (!WASM_FILES.includes(name)) return next();
        res.setHeader('Content-Type', 'application/wasm');
        res.end(await readFile(path.join(dir, name)));
      });
    },
    async generateBundle() {
      for (const name of WASM_FILES) {
        this.emitFile({
          type: 'asset',
          fileName: WASM_DIR_URL + name,
          source: await readFile(path.join(dir, name)),
        });
      }
    },
  };
}

export default defineConfig({
  // Workspace packages are read from their TypeScript sources, in dev and build alike.
  resolve: { conditions: ['development', ...defaultClientConditions], dedupe: ['@tensorflow/tfjs-core'] },
  optimizeDeps: {
    exclude: ['@deepmask/coco', '@deepmask/model', '@deepmask/pyramid', '@deepmask/sampling'],
  },
  plugins: [tfjsWasmFiles()],
  build: { target: 'es2022', chunkSizeWarningLimit: 4000 },
});
