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
import { convGeometry, plainStrides, shape4 } from './conv-geometry.js';
import { DEPTHWISE_ACTIVATIONS, DEPTHWISE_FIELDS, DEPTHWISE_GEOMETRY_BYTES } from './matrix-product-wasm.js';
import { evenShares, packedProduct } from './packed-product.js';
import { wasmMemoryOf } from './wasm-heap.js';
import { WasmKernelScope } from './wasm-kernel-scope.js';
import { adoptedWasmKernel, wasmSetupOf } from './wasm-originals.js';

/** Shares of the batch's output rows that the threads claim. */
const SHARES = 16;

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
  const memory = wasmMemoryOf(scope.backend);
  const [fh, fw, channels, multiplier] = filter.shape;
  if (strides === null || memory === null) return null;
  if (x.dtype !== 'float32' || multiplier !== 1 || channels % 4 !== 0) return null;
  const product = packedProduct(memory);
  if (product === null || !product.worthwhile) return null;
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
  const record = {
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
    activation: DEPTHWISE_ACTIVATIONS[activation],
  };
  const table = scope.allocate([DEPTHWISE_GEOMETRY_BYTES / 4]);
  const y = scope.allocate([g.batchSize, g.outHeight, g.outWidth, channels]);
  // Addresses after the last allocation (which may grow the memory).
  if (bias !== undefined) record.bias = scope.floats(bias).byteOffset;
  const tableValues = scope.floats(table);
  const fields = DEPTHWISE_FIELDS.map((name) => record[name]);
  new Int32Array(tableValues.buffer, tableValues.byteOffset, fields.length).set(fields);
  const [xAt, wAt, yAt] = [x, filter, y].map((info) => scope.floats(info).byteOffset);
  const rows = g.batchSize * g.outHeight;
  product.run(
    evenShares(rows, Math.min(rows, SHARES)).map(([start, end]) => ({
      name: 'depthwiseRows',
      args: [tableValues.byteOffset, xAt, wAt, yAt, start, end],
      perThread: [],
    })),
  );
  return y;
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

/** The same for a depthwise layer at inference, its bias and a ReLU or ReLU6 applied as y is stored. */
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
