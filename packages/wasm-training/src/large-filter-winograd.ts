import { Conv2D, type TensorInfo } from '@tensorflow/tfjs-core';
import {
  type ConvGeometry,
  type ConvolutionForm,
  convGeometry,
  isPlainStrideOne,
  shape4,
} from './conv-geometry.js';
import type { LargeFilterPart } from './simd-kernels.js';
import { copyRun } from './wasm-heap.js';
import type { WasmKernelScope } from './wasm-kernel-scope.js';
import { winogradConvolve, winogradFilter } from './winograd-conv2d.js';

const MIN_CHANNELS = 32;
const MIN_TILES = 32;

/** The part size r of a k x k filter made of r x r parts: 7 where k is a multiple of 7, else 5, else none. */
function partSize(k: number): LargeFilterPart | null {
  if (k % 7 === 0) return 7;
  return k % 5 === 0 ? 5 : null;
}

/**
 * A stride-1 convolution with a k x k filter made of s x s parts of r x r, r 7 or 5 (the heads' linears as
 * dense convolutions: the score's 7x7, the mask's 14x14, ResNet-50's shared 10x10) by Winograd F(2x2,
 * r x r): (r + 1)^2 XNNPACK products `[tiles, s^2 C] x [s^2 C, O]`, (r + 1)^2 / (4 r^2) of the direct
 * multiply-adds (64/196 for 7, 36/100 for 5). The parts are multiplied at once: x's s^2 views shifted by
 * (r a, r b) side by side along channels, against the parts stacked. A filter seen before keeps its
 * transform (`winogradFilter`). Null for any other convolution.
 */
export const largeFilterConvolution: ConvolutionForm = (scope, x, filter, attrs, freshFilter) => {
  const { pad } = attrs;
  const simd = scope.simd();
  const [fh, fw, inChannels, outChannels] = filter.shape;
  const part = partSize(fh);
  const takes =
    simd !== null &&
    part !== null &&
    x.dtype === 'float32' &&
    fh === fw &&
    inChannels % 4 === 0 &&
    outChannels % 4 === 0 &&
    inChannels >= MIN_CHANNELS &&
    outChannels >= MIN_CHANNELS &&
    isPlainStrideOne(attrs);
  if (!takes) return null;
  const g = convGeometry(Conv2D, shape4(x), shape4(filter), 1, 1, pad, undefined, false);
  if (g.batchSize * Math.ceil(g.outHeight / 2) * Math.ceil(g.outWidth / 2) < MIN_TILES) return null;
  const transforms = simd.largeFilters[part];
  const parts = fh / part;
  const views = shiftedViews(scope, x, g, part, parts);
  const stackedShape = [part, part, parts * parts * inChannels, outChannels] as const;
  const viewsGeometry = convGeometry(
    Conv2D,
    shape4(views),
    [...stackedShape],
    1,
    1,
    'valid',
    undefined,
    false,
  );
  const filters = winogradFilter(scope, transforms, filter, freshFilter, () =>
    stackedParts(scope, filter, part, parts),
  );
  return winogradConvolve(scope, transforms, views, filters, viewsGeometry);
};

/**
 * x padded to the rows and columns the output reads, and for s > 1 its s^2 views shifted by (r a, r b)
 * side by side along channels: `[N, outH + r - 1, outW + r - 1, s^2 C]`, view (a, b) at channels (a s + b) C.
 */
function shiftedViews(
  scope: WasmKernelScope,
  x: TensorInfo,
  g: ConvGeometry,
  part: number,
  parts: number,
): TensorInfo {
  const span = part * parts - 1;
  const padded = scope.padOrCrop(x, [
    [0, 0],
    [g.padTop, g.outHeight + span - g.inHeight - g.padTop],
    [g.padLeft, g.outWidth + span - g.inWidth - g.padLeft],
    [0, 0],
  ]);
  if (parts === 1) return padded;
  const size = [g.batchSize, g.outHeight + part - 1, g.outWidth + part - 1, x.shape[3]];
  const views = [];
  for (let a = 0; a < parts; a++) {
    for (let b = 0; b < parts; b++) {
      views.push(scope.run('Slice', { x: padded }, { begin: [0, part * a, part * b, 0], size }));
    }
  }
  return scope.run('Concat', views as never, { axis: 3 });
}

/** A k x k filter `[k, k, C, O]` as the r x r filter `[r, r, s^2 C, O]` of its parts, (a, b) at (a s + b) C. */
function stackedParts(scope: WasmKernelScope, filter: TensorInfo, part: number, parts: number): TensorInfo {
  if (parts === 1) return filter;
  const [size, , inChannels, outChannels] = filter.shape;
  const stacked = scope.allocate([part, part, parts * parts * inChannels, outChannels]);
  const [from, to] = [scope.floats(filter), scope.floats(stacked)];
  const tapValues = inChannels * outChannels;
  for (let i = 0; i < part; i++) {
    for (let j = 0; j < part; j++) {
      for (let a = 0; a < parts; a++) {
        for (let b = 0; b < parts; b++) {
          const source = ((part * a + i) * size + part * b + j) * tapValues;
          const target = ((i * part + j) * parts * parts + a * parts + b) * tapValues;
          copyRun(from, source, to, target, tapValues);
        }
      }
    }
  }
  return stacked;
}
