import {
  type Conv2DAttrs,
  DepthwiseConv2dNative,
  type DepthwiseConv2dNativeAttrs,
  FusedDepthwiseConv2D,
  type FusedDepthwiseConv2DAttrs,
  type KernelConfig,
  type KernelFunc,
  type TensorInfo,
} from '@tensorflow/tfjs-core';
import { type ConvGeometry, convGeometry, plainStrides, shape4 } from './conv-geometry.js';
import { DEPTHWISE_ACTIVATIONS, DEPTHWISE_FIELDS, DEPTHWISE_GEOMETRY_BYTES } from './matrix-product-wasm.js';
import { evenShares, type PackedProduct, packedProduct } from './packed-product.js';
import { wasmMemoryOf } from './wasm-heap.js';
import { WasmKernelScope } from './wasm-kernel-scope.js';
import { adoptedWasmKernel, wasmSetupOf } from './wasm-originals.js';

/** Shares of the batch's output rows that the threads claim. */
const SHARES = 16;

/** A depthwise function's geometry record (`scripts/depthwise-convolution-wat.ts`), `bias` a byte address or 0. */
export type DepthwiseGeometry = Record<(typeof DEPTHWISE_FIELDS)[number], number>;

/**
 * Our product module where its depthwise functions take this filter (multiplier 1, channels a multiple of
 * 4) and input (float32) and beat XNNPACK (`PackedProduct.worthwhile`), else null.
 */
export function depthwiseProduct(
  scope: WasmKernelScope,
  x: TensorInfo,
  filter: TensorInfo,
): PackedProduct | null {
  const memory = wasmMemoryOf(scope.backend);
  const [, , channels, multiplier] = filter.shape;
  if (memory === null || x.dtype !== 'float32' || multiplier !== 1 || channels % 4 !== 0) return null;
  const product = packedProduct(memory);
  return product?.worthwhile ? product : null;
}

/**
 * Runs the product module's depthwise function `name` over `rows` rows of `y` (the batch's rows), in shares
 * that both threads claim, with `geometry` written to wasm memory for it.
 */
export function runDepthwiseRows(
  scope: WasmKernelScope,
  product: PackedProduct,
  name: 'depthwiseRows' | 'depthwiseInputGradientRows',
  geometry: DepthwiseGeometry,
  [x, w, y]: [TensorInfo, TensorInfo, TensorInfo],
  rows: number,
): void {
  const table = scope.allocate([DEPTHWISE_GEOMETRY_BYTES / 4]);
  // Addresses after the last allocation (which may grow the memory).
  const tableValues = scope.floats(table);
  const fields = DEPTHWISE_FIELDS.map((field) => geometry[field]);
  new Int32Array(tableValues.buffer, tableValues.byteOffset, fields.length).set(fields);
  const [xAt, wAt, yAt] = [x, w, y].map((info) => scope.floats(info).byteOffset);
  product.run(
    evenShares(rows, Math.min(rows, SHARES)).map(([start, end]) => ({
      name,
      args: [tableValues.byteOffset, xAt, wAt, yAt, start, end],
      perThread: [],
    })),
  );
}

/**
 * A depthwise convolution of one filter per channel (multiplier 1, channels a multiple of 4, dilation 1,
 * NHWC) straight from x on our product module (`depthwiseRows`: each pixel's channels in blocks of 4
 * vectors, its window's taps inside the image, rows shared by both threads), then the bias and a ReLU or
 * ReLU6 as it stores y; null for any other (wasm's XNNPACK kernel takes it). MobileNet-v1's depthwise
 * layers in its forward of 4 images at 224 px: 8.5 ms, where XNNPACK took 10-11 on two threads and 14-18 on
 * one (the pool it has beside our helper thread).
 */
function ourDepthwise(
  scope: WasmKernelScope,
  x: TensorInfo,
  filter: TensorInfo,
  attrs: DepthwiseConv2dNativeAttrs,
  bias: TensorInfo | undefined,
  activation: keyof typeof DEPTHWISE_ACTIVATIONS,
): TensorInfo | null {
  const strides = plainStrides(attrs as unknown as Conv2DAttrs);
  const product = depthwiseProduct(scope, x, filter);
  if (strides === null || product === null) return null;
  const [fh, fw, channels] = filter.shape;
  const g = convGeometry(
    DepthwiseConv2dNative,
    shape4(x),
    shape4(filter),
    strides,
    1,
    attrs.pad,
    undefined,
    true,
  );
  const y = scope.allocate([g.batchSize, g.outHeight, g.outWidth, channels]);
  const geometry = {
    ...depthwiseGeometry(g, fh, fw, channels),
    bias: bias === undefined ? 0 : scope.floats(bias).byteOffset,
    activation: DEPTHWISE_ACTIVATIONS[activation],
  };
  runDepthwiseRows(scope, product, 'depthwiseRows', geometry, [x, filter, y], g.batchSize * g.outHeight);
  return y;
}

/** The geometry record of a depthwise convolution, without bias or activation. */
export function depthwiseGeometry(
  g: ConvGeometry,
  fh: number,
  fw: number,
  channels: number,
): DepthwiseGeometry {
  return {
    outHeight: g.outHeight,
    outWidth: g.outWidth,
    filterHeight: fh,
    filterWidth: fw,
    channels,
    inHeight: g.inHeight,
    inWidth: g.inWidth,
    strideH: g.strides[0],
    strideW: g.strides[1],
    padTop: g.padTop,
    padLeft: g.padLeft,
    bias: 0,
    activation: DEPTHWISE_ACTIVATIONS.linear,
  };
}

function depthwiseConv2d(args: {
  inputs: { x: TensorInfo; filter: TensorInfo };
  backend: unknown;
  attrs: DepthwiseConv2dNativeAttrs;
}): TensorInfo {
  const { x, filter } = args.inputs;
  const scope = new WasmKernelScope(args.backend as never);
  const y = ourDepthwise(scope, x, filter, args.attrs, undefined, 'linear');
  if (y === null) return adoptedWasmKernel(DepthwiseConv2dNative).kernelFunc(args as never) as TensorInfo;
  return scope.finish(y);
}

/** The same for a fused depthwise layer, its bias and a ReLU or ReLU6 applied as y is stored. */
function fusedDepthwiseConv2d(args: {
  inputs: { x: TensorInfo; filter: TensorInfo; bias?: TensorInfo; preluActivationWeights?: TensorInfo };
  backend: unknown;
  attrs: FusedDepthwiseConv2DAttrs;
}): TensorInfo {
  const { x, filter, bias } = args.inputs;
  const { activation } = args.attrs;
  const channels = filter.shape[2] * filter.shape[3];
  const takes =
    (activation === 'linear' || activation === 'relu' || activation === 'relu6') &&
    (bias === undefined ||
      (bias.dtype === 'float32' && bias.shape.length === 1 && bias.shape[0] === channels));
  const scope = new WasmKernelScope(args.backend as never);
  const y = takes ? ourDepthwise(scope, x, filter, args.attrs, bias, activation) : null;
  if (y === null) return adoptedWasmKernel(FusedDepthwiseConv2D).kernelFunc(args as never) as TensorInfo;
  return scope.finish(y);
}

export const depthwiseConv2dConfig: KernelConfig = {
  kernelName: DepthwiseConv2dNative,
  backendName: 'wasm',
  setupFunc: wasmSetupOf(DepthwiseConv2dNative),
  kernelFunc: depthwiseConv2d as unknown as KernelFunc,
};

export const fusedDepthwiseConv2dConfig: KernelConfig = {
  kernelName: FusedDepthwiseConv2D,
  backendName: 'wasm',
  setupFunc: wasmSetupOf(FusedDepthwiseConv2D),
  kernelFunc: fusedDepthwiseConv2d as unknown as KernelFunc,
};
