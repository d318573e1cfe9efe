import { backend_util, type Conv2DAttrs, type TensorInfo } from '@tensorflow/tfjs-core';
import type { PendingEpilogue } from './matrix-product.js';
import type { WasmKernelScope } from './wasm-kernel-scope.js';

export type ConvPad = 'valid' | 'same' | number | backend_util.ExplicitPadding;

/** The part of a forward convolution's geometry that its gradients need. */
export interface ConvGeometry {
  batchSize: number;
  inHeight: number;
  inWidth: number;
  outHeight: number;
  outWidth: number;
  filterHeight: number;
  filterWidth: number;
  strides: [number, number];
  padTop: number;
  padLeft: number;
}

/**
 * One of our forms of a forward convolution (`conv2d.ts` tries them in order): its result, or null where it
 * does not take the convolution. `freshFilter`: the filter was not seen before (training, an input
 * gradient's rotated filter).
 */
export type ConvolutionForm = (
  scope: WasmKernelScope,
  x: TensorInfo,
  filter: TensorInfo,
  attrs: Conv2DAttrs,
  freshFilter: boolean,
  epilogue?: PendingEpilogue,
) => TensorInfo | null;

/** The strides (rows, columns) of a forward convolution without dilation or rounding mode in NHWC, else null. */
export function plainStrides({
  strides,
  dilations,
  dimRoundingMode,
  dataFormat,
}: Conv2DAttrs): [number, number] | null {
  const plain =
    [dilations ?? 1].flat().every((d) => d === 1) &&
    dimRoundingMode === undefined &&
    (dataFormat === undefined || dataFormat === 'NHWC');
  if (!plain) return null;
  return typeof strides === 'number' ? [strides, strides] : [strides[0], strides[1]];
}

/** A forward convolution at stride 1 without dilation or rounding mode, in NHWC: what our forms take. */
export function isPlainStrideOne(attrs: Conv2DAttrs): boolean {
  const strides = plainStrides(attrs);
  return strides !== null && strides[0] === 1 && strides[1] === 1;
}

/** Geometry of the forward op, exactly as tfjs-core computes it (same rounding, same 'same' split). */
export function convGeometry(
  kernelName: string,
  inShape: [number, number, number, number],
  filterShape: [number, number, number, number],
  strides: number | [number, number],
  dilations: number | [number, number] | undefined,
  pad: ConvPad,
  dimRoundingMode: 'floor' | 'round' | 'ceil' | undefined,
  depthwise: boolean,
  dataFormat?: string,
): ConvGeometry {
  if (dataFormat !== undefined && dataFormat !== 'NHWC') {
    throw new Error(`${kernelName} on wasm: dataFormat '${dataFormat}' is not supported, expected 'NHWC'`);
  }
  const info = backend_util.computeConv2DInfo(
    inShape,
    filterShape,
    strides,
    dilations ?? 1,
    pad,
    dimRoundingMode,
    depthwise,
  );
  if (info.dilationHeight !== 1 || info.dilationWidth !== 1) {
    throw new Error(
      `${kernelName} on wasm: dilations [${info.dilationHeight}, ${info.dilationWidth}] are not supported, ` +
        'expected [1, 1] (tfjs-core has no gradient for dilated convolutions either)',
    );
  }
  return {
    batchSize: info.batchSize,
    inHeight: info.inHeight,
    inWidth: info.inWidth,
    outHeight: info.outHeight,
    outWidth: info.outWidth,
    filterHeight: info.filterHeight,
    filterWidth: info.filterWidth,
    strides: [info.strideHeight, info.strideWidth],
    padTop: info.padInfo.top,
    padLeft: info.padInfo.left,
  };
}

/**
 * The outputs [lo, hi) of one axis whose filter tap reads inside the input: 0 <= stride k + shift < inSize,
 * where shift is the tap's offset minus the padding before the axis.
 */
export function insideOutputs(
  outSize: number,
  inSize: number,
  stride: number,
  shift: number,
): [number, number] {
  const lo = Math.min(outSize, Math.max(0, Math.ceil(-shift / stride)));
  return [lo, Math.max(lo, Math.min(outSize, Math.floor((inSize - 1 - shift) / stride) + 1))];
}

/**
 * Pads/crops of the input so that a stride-1 'valid' correlation with an `outHeight x outWidth` kernel
 * dilated by the stride yields exactly `filterHeight x filterWidth` outputs (filter gradients).
 */
export function inputWindowPadding(g: ConvGeometry): Array<[number, number]> {
  const rows = g.filterHeight + (g.outHeight - 1) * g.strides[0];
  const cols = g.filterWidth + (g.outWidth - 1) * g.strides[1];
  return [
    [g.padTop, rows - g.inHeight - g.padTop],
    [g.padLeft, cols - g.inWidth - g.padLeft],
  ];
}

/**
 * Pads/crops of the zero-dilated `dy` ([outHeight * strideH, outWidth * strideW]) so that a stride-1
 * 'valid' correlation with the rotated filter yields exactly `inHeight x inWidth` (input gradients).
 */
export function dilatedGradientPadding(g: ConvGeometry): Array<[number, number]> {
  const top = g.filterHeight - 1 - g.padTop;
  const left = g.filterWidth - 1 - g.padLeft;
  return [
    [top, g.inHeight + g.filterHeight - 1 - top - g.outHeight * g.strides[0]],
    [left, g.inWidth + g.filterWidth - 1 - left - g.outWidth * g.strides[1]],
  ];
}

export function shape4(info: TensorInfo): [number, number, number, number] {
  const [a, b, c, d] = info.shape;
  return [a, b, c, d];
}
