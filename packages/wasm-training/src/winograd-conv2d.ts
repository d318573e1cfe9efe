import {
  Conv2D,
  type Conv2DAttrs,
  type Conv2DInputs,
  FusedConv2D,
  type FusedConv2DAttrs,
  type KernelConfig,
  type KernelFunc,
  type TensorInfo,
} from '@tensorflow/tfjs-core';
import { activate } from './activation.js';
import { type ConvGeometry, convGeometry, shape4 } from './conv-geometry.js';
import type { SimdKernels } from './simd-kernels.js';
import { WasmKernelScope } from './wasm-kernel-scope.js';
import { assertWasmHeadroom } from './wasm-memory-guard.js';
import { adoptedWasmKernel, wasmSetupOf } from './wasm-originals.js';

/**
 * Where Winograd pays, measured layer by layer against XNNPACK's direct convolution with a fresh filter (2
 * threads, VGG-A's and ResNet-50's 3x3 layers): its 16 products have 16/36 of the multiply-adds but 16/9 as
 * many filter values for XNNPACK to pack, and two passes over the tiles: 0.54-0.9x the time from 32
 * channels and 40 tiles of 2x2 (ResNet-50's 10x10 maps at batch 4: 100 tiles, 0.77-0.89x). The filter
 * gradient packs its 16 `[tiles, O]` right operands instead: 0.57-0.92x from 64 x 128 channels and 64
 * tiles; 1.1x at 64 x 64 channels, 1.14x at 50 tiles. (F(4x4, 3x3), 1/4 of the multiply-adds, was
 * another 0.56-0.9x on VGG-A's larger maps, but its float32 results strayed past 1e-4 of the cpu backend's.)
 */
const MIN_CHANNELS = 32;
const MIN_TILES = 40;
const MIN_FILTER_GRADIENT_TILES = 64;
const MIN_FILTER_GRADIENT_CHANNELS = 64 * 128;

/**
 * wasm's Conv2D (and FusedConv2D, below), with 3x3 stride-1 convolutions (VGG-A's all but the first,
 * ResNet-50's bottleneck middles, the input gradients of both) by Winograd F(2x2, 3x3): each 2x2 output
 * tile from a 4x4 input patch, as 16 XNNPACK products `[tiles, C] x [C, O]` between transforms in our SIMD
 * module. Everything else goes to wasm's own kernel.
 */
function conv2D(args: { inputs: Conv2DInputs; backend: unknown; attrs: Conv2DAttrs }): TensorInfo {
  const { x, filter } = args.inputs as { x: TensorInfo; filter: TensorInfo };
  const scope = new WasmKernelScope(args.backend as never);
  const plan = winogradPlan(scope, x, filter, args.attrs);
  if (plan === null) return adoptedWasmKernel(Conv2D).kernelFunc(args as never) as TensorInfo;
  return scope.finish(winogradConv(scope, args.backend, plan.simd, x, filter, plan.g));
}

/** The same for a conv layer at inference (bias and activation after the Winograd product, as wasm kernels). */
function fusedConv2D(args: {
  inputs: { x: TensorInfo; filter: TensorInfo; bias?: TensorInfo; preluActivationWeights?: TensorInfo };
  backend: unknown;
  attrs: FusedConv2DAttrs;
}): TensorInfo {
  const { x, filter, bias, preluActivationWeights } = args.inputs;
  const scope = new WasmKernelScope(args.backend as never);
  const plan = winogradPlan(scope, x, filter, args.attrs);
  if (plan === null) return adoptedWasmKernel(FusedConv2D).kernelFunc(args as never) as TensorInfo;
  const y = winogradConv(scope, args.backend, plan.simd, x, filter, plan.g);
  const biased = bias === undefined ? y : scope.run('Add', { a: y, b: bias });
  const { activation, leakyreluAlpha } = args.attrs;
  return scope.finish(activate(scope, biased, activation, preluActivationWeights, leakyreluAlpha));
}

/** The geometry and our SIMD module when Winograd takes the convolution, else null. */
function winogradPlan(
  scope: WasmKernelScope,
  x: TensorInfo,
  filter: TensorInfo,
  attrs: Conv2DAttrs,
): { simd: SimdKernels; g: ConvGeometry } | null {
  const { strides, pad, dataFormat, dilations, dimRoundingMode } = attrs;
  const simd = scope.simd();
  const strideOne = [strides, dilations ?? 1].flat().every((s) => s === 1) && dimRoundingMode === undefined;
  if (simd === null || !strideOne) return null;
  const g = convGeometry(Conv2D, shape4(x), shape4(filter), 1, 1, pad, undefined, false);
  return winogradTakes(x, shape4(filter), dataFormat, g) ? { simd, g } : null;
}

/**
 * Whether Winograd takes a stride-1 convolution of `x` with a filter of `filterShape` (`g`: its geometry),
 * or with `filterGradient` its filter gradient.
 */
export function winogradTakes(
  x: TensorInfo,
  filterShape: number[],
  dataFormat: string | undefined,
  g: ConvGeometry,
  filterGradient = false,
): boolean {
  const [fh, fw, inChannels, outChannels] = filterShape;
  const tiles = g.batchSize * Math.ceil(g.outHeight / 2) * Math.ceil(g.outWidth / 2);
  return (
    x.dtype === 'float32' &&
    fh === 3 &&
    fw === 3 &&
    inChannels % 4 === 0 &&
    outChannels % 4 === 0 &&
    inChannels >= MIN_CHANNELS &&
    outChannels >= MIN_CHANNELS &&
    tiles >= (filterGradient ? MIN_FILTER_GRADIENT_TILES : MIN_TILES) &&
    (!filterGradient || inChannels * outChannels >= MIN_FILTER_GRADIENT_CHANNELS) &&
    (dataFormat === undefined || dataFormat === 'NHWC')
  );
}

/**
 * The 16 transformed input matrices `[1, tiles, C]` (B^T d B of every 4x4 input patch, x padded or cropped
 * so that each patch lies inside) and the tiles' sizes.
 */
function inputTiles(scope: WasmKernelScope, simd: SimdKernels, x: TensorInfo, g: ConvGeometry) {
  const tilesH = Math.ceil(g.outHeight / 2);
  const tilesW = Math.ceil(g.outWidth / 2);
  const patches = scope.padOrCrop(x, [
    [0, 0],
    [g.padTop, 2 * tilesH + 2 - g.inHeight - g.padTop],
    [g.padLeft, 2 * tilesW + 2 - g.inWidth - g.padLeft],
    [0, 0],
  ]);
  const channels = x.shape[3];
  const inputs = Array.from({ length: 16 }, () =>
    scope.allocate([1, g.batchSize * tilesH * tilesW, channels]),
  );
  const dims = { batch: g.batchSize, tilesH, tilesW, channels };
  inWasmMemory(
    simd.winogradInputTiles(
      scope.floats(patches),
      inputs.map((t) => scope.floats(t)),
      dims,
    ),
  );
  return { inputs, dims };
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
  const { inputs, dims } = inputTiles(scope, simd, x, g);
  const filters = Array.from({ length: 16 }, () => scope.allocate([1, inChannels, outChannels]));
  inWasmMemory(
    simd.winogradFilter(
      scope.floats(filter),
      filters.map((t) => scope.floats(t)),
    ),
  );
  const batchMatMul = adoptedWasmKernel('BatchMatMul');
  const products = inputs.map((a, k) => {
    // XNNPACK packs each filter matrix (and a bias of its columns) into a buffer of its own.
    assertWasmHeadroom(backend, 4 * (inChannels * outChannels + outChannels));
    return scope.runKernel(batchMatMul, { a, b: filters[k] }, { transposeA: false, transposeB: false });
  });
  const { outHeight, outWidth } = g;
  const y = scope.allocate([g.batchSize, outHeight, outWidth, outChannels]);
  const outputDims = { ...dims, channels: outChannels, outHeight, outWidth };
  inWasmMemory(
    simd.winogradOutputTiles(
      products.map((t) => scope.floats(t)),
      scope.floats(y),
      outputDims,
    ),
  );
  return y;
}

/**
 * The filter gradient of a stride-1 3x3 convolution by Winograd F(2x2, 3x3): with V_k the transformed input
 * patches and dM_k the transformed dy tiles (A dy A^T), dU_k = V_k^T dM_k (16 products `[C, T] x [T, O]`)
 * and dW = G^T dU G.
 */
export function winogradFilterGradient(
  scope: WasmKernelScope,
  simd: SimdKernels,
  x: TensorInfo,
  dy: TensorInfo,
  g: ConvGeometry,
  filterShape: number[],
): TensorInfo {
  const outChannels = filterShape[3];
  const { inputs, dims } = inputTiles(scope, simd, x, g);
  const tiles = inputs[0].shape[1];
  const gradients = Array.from({ length: 16 }, () => scope.allocate([1, tiles, outChannels]));
  const { outHeight, outWidth } = g;
  const gradientDims = { ...dims, channels: outChannels, outHeight, outWidth };
  inWasmMemory(
    simd.winogradGradientTiles(
      scope.floats(dy),
      gradients.map((t) => scope.floats(t)),
      gradientDims,
    ),
  );
  const products = inputs.map((a, k) =>
    scope.run('BatchMatMul', { a, b: gradients[k] }, { transposeA: true, transposeB: false }),
  );
  const dW = scope.allocate(filterShape);
  inWasmMemory(
    simd.winogradFilterGradient(
      scope.floats(dW),
      products.map((t) => scope.floats(t)),
    ),
  );
  return dW;
}

/** The SIMD module declines only views of another memory, which a kernel's fresh views never are. */
function inWasmMemory(done: boolean): void {
  if (!done) throw new Error('@deepmask/wasm-training: Winograd transform on views outside wasm memory');
}

export const conv2DConfig: KernelConfig = {
  kernelName: Conv2D,
  backendName: 'wasm',
  setupFunc: wasmSetupOf(Conv2D),
  kernelFunc: conv2D as unknown as KernelFunc,
};

export const fusedConv2DConfig: KernelConfig = {
  kernelName: FusedConv2D,
  backendName: 'wasm',
  setupFunc: wasmSetupOf(FusedConv2D),
  kernelFunc: fusedConv2D as unknown as KernelFunc,
};
