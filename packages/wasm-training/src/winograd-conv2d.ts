import {
  Conv2D,
  type Conv2DAttrs,
  type Conv2DInputs,
  type KernelConfig,
  type KernelFunc,
  type TensorInfo,
} from '@tensorflow/tfjs-core';
import { type ConvGeometry, convGeometry, shape4 } from './conv-geometry.js';
import type { SimdKernels } from './simd-kernels.js';
import { WasmKernelScope } from './wasm-kernel-scope.js';
import { assertWasmHeadroom } from './wasm-memory-guard.js';
import { adoptedWasmKernel, wasmSetupOf } from './wasm-originals.js';

/**
 * Input and output channels from which Winograd pays: its 16 products have fewer multiply-adds (16/36 of
 * the direct convolution's) but 16/9 as many filter values for XNNPACK to pack, and two passes over the
 * tiles.
 */
const MIN_CHANNELS = 32;

/**
 * wasm's Conv2D, with 3x3 stride-1 convolutions (VGG-A's all, ResNet-50's bottleneck middles, the input
 * gradients of both) by Winograd F(2x2, 3x3): each 2x2 output tile from a 4x4 input patch, as 16 XNNPACK
 * products `[tiles, C] x [C, O]` between transforms in our SIMD module. Measured on 2 threads: the 16
 * products of a `[4, 56, 56, 256] -> 256` layer with a fresh filter 158 ms against 324 ms for the direct
 * convolution. Everything else goes to wasm's own kernel.
 */
function conv2D(args: { inputs: Conv2DInputs; backend: unknown; attrs: Conv2DAttrs }): TensorInfo {
  const { x, filter } = args.inputs as { x: TensorInfo; filter: TensorInfo };
  const { strides, pad, dataFormat, dilations, dimRoundingMode } = args.attrs;
  const scope = new WasmKernelScope(args.backend as never);
  const simd = scope.simd();
  const [fh, fw, inChannels, outChannels] = filter.shape;
  const eligible =
    simd !== null &&
    x.dtype === 'float32' &&
    fh === 3 &&
    fw === 3 &&
    inChannels % 4 === 0 &&
    outChannels % 4 === 0 &&
    inChannels >= MIN_CHANNELS &&
    outChannels >= MIN_CHANNELS &&
    [strides, dilations ?? 1].flat().every((s) => s === 1) &&
    (dataFormat === undefined || dataFormat === 'NHWC') &&
    dimRoundingMode === undefined;
  if (!eligible) return adoptedWasmKernel(Conv2D).kernelFunc(args as never) as TensorInfo;
  const g = convGeometry(Conv2D, shape4(x), shape4(filter), 1, 1, pad, undefined, false);
  return scope.finish(winogradConv(scope, args.backend, simd, x, filter, g));
}

function winogradConv(
  scope: WasmKernelScope,
  backend: unknown,
  simd: SimdKernels,
  x: TensorInfo,
  filter: TensorInfo,
  g: ConvGeometry,
): TensorInfo {
  const [, , inChannels, outChannels] = filter.shape;
  const { batchSize, inHeight, inWidth, outHeight, outWidth, padTop, padLeft } = g;
  const tilesH = Math.ceil(outHeight / 2);
  const tilesW = Math.ceil(outWidth / 2);
  const tiles = batchSize * tilesH * tilesW;
  // Every 4x4 patch inside: zeros where the convolution pads, and past the last odd row and column.
  const patches = scope.padOrCrop(x, [
    [0, 0],
    [padTop, 2 * tilesH + 2 - inHeight - padTop],
    [padLeft, 2 * tilesW + 2 - inWidth - padLeft],
    [0, 0],
  ]);
  const inputs = Array.from({ length: 16 }, () => scope.allocate([1, tiles, inChannels]));
  const dims = { batch: batchSize, tilesH, tilesW, channels: inChannels };
  simd.winogradInputTiles(
    scope.floats(patches),
    inputs.map((t) => scope.floats(t)),
    dims,
  );
  const filters = filterTiles(scope, filter);
  const batchMatMul = adoptedWasmKernel('BatchMatMul');
  const products = inputs.map((a, k) => {
    // XNNPACK packs each filter matrix (and a bias of its columns) into a buffer of its own.
    assertWasmHeadroom(backend, 4 * (inChannels * outChannels + outChannels));
    return scope.runKernel(batchMatMul, { a, b: filters[k] }, { transposeA: false, transposeB: false });
  });
  const y = scope.allocate([batchSize, outHeight, outWidth, outChannels]);
  simd.winogradOutputTiles(
    products.map((t) => scope.floats(t)),
    scope.floats(y),
    { ...dims, channels: outChannels, outHeight, outWidth },
  );
  return y;
}

/**
 * The 16 matrices `[1, C, O]` of G g G^T for the 3x3 filter g of every (c, o), with
 * G = [1 0 0; 1/2 1/2 1/2; 1/2 -1/2 1/2; 0 0 1].
 */
function filterTiles(scope: WasmKernelScope, filter: TensorInfo): TensorInfo[] {
  const [, , inChannels, outChannels] = filter.shape;
  const size = inChannels * outChannels;
  const tiles = Array.from({ length: 16 }, () => scope.allocate([1, inChannels, outChannels]));
  const g = scope.floats(filter);
  const u = tiles.map((t) => scope.floats(t));
  const row = new Float64Array(12);
  for (let at = 0; at < size; at++) {
    // G g: rows 0..3 of three values each.
    for (let b = 0; b < 3; b++) {
      const [g0, g1, g2] = [g[b * size + at], g[(3 + b) * size + at], g[(6 + b) * size + at]];
      row[b] = g0;
      row[3 + b] = (g0 + g1 + g2) / 2;
      row[6 + b] = (g0 - g1 + g2) / 2;
      row[9 + b] = g2;
    }
    // (G g) G^T
    for (let r = 0; r < 4; r++) {
      const [t0, t1, t2] = [row[3 * r], row[3 * r + 1], row[3 * r + 2]];
      u[4 * r][at] = t0;
      u[4 * r + 1][at] = (t0 + t1 + t2) / 2;
      u[4 * r + 2][at] = (t0 - t1 + t2) / 2;
      u[4 * r + 3][at] = t2;
    }
  }
  return tiles;
}

export const conv2DConfig: KernelConfig = {
  kernelName: Conv2D,
  backendName: 'wasm',
  setupFunc: wasmSetupOf(Conv2D),
  kernelFunc: conv2D as unknown as KernelFunc,
};
