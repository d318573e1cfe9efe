import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-webgl';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';

export type BackendName = 'webgl' | 'wasm';

export interface BackendChoice {
  name: BackendName;
  /** What actually runs, e.g. the WebGL renderer (`SwiftShader` means software rendering). */
  detail: string;
  /** Why this backend and not the preferred one; empty when the first choice worked. */
  fallbackReason: string;
}

/** `?backend=webgl|wasm` forces one backend; otherwise WebGL, then wasm. */
export function requestedBackend(search: string): BackendName | null {
  const value = new URLSearchParams(search).get('backend');
  if (value === null) return null;
  if (value === 'webgl' || value === 'wasm') return value;
  throw new Error(`URL parameter backend=${value} is not one of webgl, wasm`);
}

export async function chooseBackend(requested: BackendName | null): Promise<BackendChoice> {
  // The vite config serves tfjs-backend-wasm's binaries under this folder.
  setWasmPaths(`${import.meta.env.BASE_URL}tfjs-wasm/`);
  // Shapes as uniforms let one compiled shader serve every scale of the pyramid: compiling is the
  // dominant cost on software WebGL (SwiftShader) and noticeable on real GPUs.
  tf.env().set('WEBGL_USE_SHAPES_UNIFORMS', true);
  const order: BackendName[] = requested === 'wasm' ? ['wasm', 'webgl'] : ['webgl', 'wasm'];
  const failures: string[] = [];
  for (const name of order) {
    const ok = await tf.setBackend(name).catch((error: unknown) => {
      failures.push(`${name}: ${error instanceof Error ? error.message : String(error)}`);
      return false;
    });
    if (ok) {
      await tf.ready();
      if (failures.length === 0 && name !== order[0]) failures.push(`${order[0]}: unavailable`);
      return { name, detail: await describe(name), fallbackReason: failures.join('; ') };
    }
    if (!failures.some((failure) => failure.startsWith(`${name}:`))) failures.push(`${name}: unavailable`);
  }
  throw new Error(`no TensorFlow.js backend could start (${failures.join('; ')})`);
}

async function describe(name: BackendName): Promise<string> {
  if (name === 'wasm') {
    const simd = (await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT')) ? 'simd' : 'no simd';
    return `WebAssembly, ${simd}`;
  }
  const canvas = document.createElement('canvas');
  const gl = canvas.getContext('webgl2') ?? canvas.getContext('webgl');
  const info = gl?.getExtension('WEBGL_debug_renderer_info');
  const renderer = gl && info ? String(gl.getParameter(info.UNMASKED_RENDERER_WEBGL)) : 'unknown renderer';
  const float32 = tf.env().getBool('WEBGL_RENDER_FLOAT32_ENABLED') ? 'float32' : 'float16';
  return `WebGL ${tf.env().getNumber('WEBGL_VERSION')}, ${renderer}, ${float32}`;
}
