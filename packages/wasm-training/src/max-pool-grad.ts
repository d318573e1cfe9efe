import {
  backend_util,
  type KernelConfig,
  type KernelFunc,
  MaxPoolGrad,
  type MaxPoolGradAttrs,
  type MaxPoolGradInputs,
  type TensorInfo,
} from '@tensorflow/tfjs-core';
import type { SlidingWindow } from './simd-kernels.js';
import { WasmKernelScope } from './wasm-kernel-scope.js';

/**
 * dx = dy added onto each window's first maximum (row-major within the window, like the cpu backend),
 * ties and overlapping windows included. Replaces wasm's MaxPoolGrad (tfjs 4.22), which never selects a
 * negative maximum and so drops or misplaces the gradient of all-negative windows. In our SIMD module
 * where the channels are a multiple of 4 (all output rows in one call, or in parts on both threads), else
 * window by window in JS.
 */
function maxPoolGrad(args: {
  inputs: MaxPoolGradInputs;
  backend: unknown;
  attrs: MaxPoolGradAttrs;
}): TensorInfo {
  const { dy, input } = args.inputs as { dy: TensorInfo; input: TensorInfo };
  const { filterSize, strides, pad, dimRoundingMode } = args.attrs;
  const [n, h, w, c] = input.shape;
  const info = backend_util.computePool2DInfo([n, h, w, c], filterSize, strides, 1, pad, dimRoundingMode);
  const scope = new WasmKernelScope(args.backend as never);
  const { outHeight, outWidth, strideHeight, strideWidth, filterHeight, filterWidth } = info;
  const pool: SlidingWindow = {
    ...{ batch: n, height: h, width: w, channels: c, outHeight, outWidth, filterHeight, filterWidth },
    ...{ strides: [strideHeight, strideWidth], padding: [info.padInfo.top, info.padInfo.left] },
  };
  // Windows that cover each pixel once (VGG-A's 2x2 pools) write dx whole: no zeros first, no reads.
  const tiled =
    strideHeight === filterHeight &&
    strideWidth === filterWidth &&
    outHeight * strideHeight === h &&
    outWidth * strideWidth === w &&
    info.padInfo.top === 0 &&
    info.padInfo.left === 0;
  const dxInfo = tiled ? scope.allocate([n, h, w, c]) : scope.zeros([n, h, w, c]);
  const [x, gradient, dx] = [scope.floats(input), scope.floats(dy), scope.floats(dxInfo)];
  if (c % 4 === 0 && scope.simd()?.maxPoolGradient(x, gradient, dx, pool, tiled)) return scope.finish(dxInfo);
  if (tiled) dx.fill(0);
  const window = scanWindow(x, gradient, dx, c, w);
  let out = 0;
  for (let b = 0; b < n; b++) {
    for (let i = 0; i < outHeight; i++) {
      const top = i * strideHeight - info.padInfo.top;
      const rows = [Math.max(top, 0), Math.min(top + filterHeight, h)];
      for (let j = 0; j < outWidth; j++, out += c) {
        const left = j * strideWidth - info.padInfo.left;
        const cols = [Math.max(left, 0), Math.min(left + filterWidth, w)];
        if (rows[0] >= rows[1] || cols[0] >= cols[1]) continue;
        window(((b * h + rows[0]) * w + cols[0]) * c, out, rows[1] - rows[0], cols[1] - cols[0]);
      }
    }
  }
  return scope.finish(dxInfo);
}

export const maxPoolGradConfig: KernelConfig = {
  kernelName: MaxPoolGrad,
  backendName: 'wasm',
  kernelFunc: maxPoolGrad as unknown as KernelFunc,
};

/** The gradient of one window as the SIMD module's, in JS (any channel count). */
function scanWindow(x: Float32Array, gradient: Float32Array, dx: Float32Array, c: number, w: number) {
  const best = new Float32Array(c);
  const where = new Int32Array(c);
  return (corner: number, out: number, rows: number, cols: number) => {
    best.set(x.subarray(corner, corner + c));
    for (let k = 0; k < c; k++) where[k] = corner + k;
    for (let y = 0; y < rows; y++) {
      for (let xx = y === 0 ? 1 : 0; xx < cols; xx++) {
        const at = corner + (y * w + xx) * c;
        for (let k = 0; k < c; k++) {
          if (x[at + k] > best[k]) {
            best[k] = x[at + k];
            where[k] = at + k;
          }
        }
      }
    }
    for (let k = 0; k < c; k++) dx[where[k]] += gradient[out + k];
  };
}
