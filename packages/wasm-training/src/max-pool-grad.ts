import {
  backend_util,
  type KernelConfig,
  type KernelFunc,
  MaxPoolGrad,
  type MaxPoolGradAttrs,
  type MaxPoolGradInputs,
  type TensorInfo,
} from '@tensorflow/tfjs-core';
import { WasmKernelScope } from './wasm-kernel-scope.js';

/**
 * dx = dy added onto each window's first maximum (row-major within the window, like the cpu backend),
 * ties and overlapping windows included. Replaces wasm's MaxPoolGrad (tfjs 4.22), which never selects a
 * negative maximum and so drops or misplaces the gradient of all-negative windows. A scatter like this is
 * a scalar loop on every backend (wasm's own is one); this one runs over wasm memory, all channels of a
 * window position at a time.
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
  const dxInfo = scope.allocate([n, h, w, c]);
  const [x, gradient, dx] = [scope.floats(input), scope.floats(dy), scope.floats(dxInfo)];
  dx.fill(0);
  const best = new Float32Array(c);
  const where = new Int32Array(c);
  const { outHeight, outWidth, strideHeight, strideWidth, filterHeight, filterWidth } = info;
  let out = 0;
  for (let b = 0; b < n; b++) {
    for (let i = 0; i < outHeight; i++) {
      const top = i * strideHeight - info.padInfo.top;
      const rows = [Math.max(top, 0), Math.min(top + filterHeight, h)];
      for (let j = 0; j < outWidth; j++, out += c) {
        const left = j * strideWidth - info.padInfo.left;
        const cols = [Math.max(left, 0), Math.min(left + filterWidth, w)];
        if (rows[0] >= rows[1] || cols[0] >= cols[1]) continue;
        const start = ((b * h + rows[0]) * w + cols[0]) * c;
        best.set(x.subarray(start, start + c));
        for (let k = 0; k < c; k++) where[k] = start + k;
        for (let y = rows[0]; y < rows[1]; y++) {
          for (let xx = y === rows[0] ? cols[0] + 1 : cols[0]; xx < cols[1]; xx++) {
            const at = ((b * h + y) * w + xx) * c;
            for (let k = 0; k < c; k++) {
              if (x[at + k] > best[k]) {
                best[k] = x[at + k];
                where[k] = at + k;
              }
            }
          }
        }
        for (let k = 0; k < c; k++) dx[where[k]] += gradient[out + k];
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
