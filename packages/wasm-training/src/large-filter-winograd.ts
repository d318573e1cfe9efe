import { Conv2D, type Conv2DAttrs, type TensorInfo } from '@tensorflow/tfjs-core';
import { convGeometry, shape4 } from './conv-geometry.js';
import { copyRun } from './wasm-heap.js';
import type { WasmKernelScope } from './wasm-kernel-scope.js';
import { inWasmMemory, matrixCount, winogradConvolve, winogradFilter } from './winograd-conv2d.js';

const PART = 7;
const MIN_CHANNELS = 32;
const MIN_TILES = 32;

/**
 * A stride-1 convolution with a 7s x 7s filter (the heads' linears as dense convolutions: the score's 7x7,
 * the mask's 14x14) by Winograd F(2x2, 7x7): 64 XNNPACK products `[tiles, s^2 C] x [s^2 C, O]` with 64/196
 * of the direct multiply-adds. A 14x14 filter is four 7x7 ones at offsets 0 and 7: x's four shifted views
 * side by side along channels, against the four parts stacked. A filter seen before keeps its transform
 * (`winogradFilter`). Null for any other convolution.
 */
export function largeFilterConvolution(
  scope: WasmKernelScope,
  x: TensorInfo,
  filter: TensorInfo,
  attrs: Conv2DAttrs,
  freshFilter: boolean,
): TensorInfo | null {
  const { strides, pad, dataFormat, dilations, dimRoundingMode } = attrs;
  const simd = scope.simd();
  const [fh, fw, inChannels, outChannels] = filter.shape;
  const takes =
    simd !== null &&
    x.dtype === 'float32' &&
    fh === fw &&
    fh % PART === 0 &&
    inChannels % 4 === 0 &&
    outChannels % 4 === 0 &&
    inChannels >= MIN_CHANNELS &&
    outChannels >= MIN_CHANNELS &&
    [strides, dilations ?? 1].flat().every((s) => s === 1) &&
    dimRoundingMode === undefined &&
    (dataFormat === undefined || dataFormat === 'NHWC');
  if (!takes) return null;
  const g = convGeometry(Conv2D, shape4(x), shape4(filter), 1, 1, pad, undefined, false);
  if (g.batchSize * Math.ceil(g.outHeight / 2) * Math.ceil(g.outWidth / 2) < MIN_TILES) return null;
  const transforms = simd.winograd7x7;
  const parts = fh / PART;
  const views = shiftedViews(scope, x, g, parts);
  const viewsGeometry = convGeometry(
    Conv2D,
    shape4(views),
    [PART, PART, parts * parts * inChannels, outChannels],
    1,
    1,
    'valid',
    undefined,
    false,
  );
  const filters = winogradFilter(scope, transforms, filter, freshFilter, (allocate) => {
    const stacked = stackedParts(scope, filter, parts);
    const matrices = Array.from({ length: matrixCount(transforms) }, () =>
      allocate([1, parts * parts * inChannels, outChannels]),
    );
    inWasmMemory(
      transforms.filter(
        scope.floats(stacked),
        matrices.map((t) => scope.floats(t)),
      ),
    );
    return matrices;
  });
  return winogradConvolve(scope, transforms, views, filters, viewsGeometry);
}

/**
 * x padded to the rows and columns the output reads, and for s > 1 its s^2 views shifted by (7a, 7b) side
 * by side along channels: `[N, outH + 6, outW + 6, s^2 C]`, view (a, b) at channels (a s + b) C.
 */
function shiftedViews(
  scope: WasmKernelScope,
  x: TensorInfo,
  g: ReturnType<typeof convGeometry>,
  parts: number,
): TensorInfo {
  const span = PART * parts - 1;
  const padded = scope.padOrCrop(x, [
    [0, 0],
    [g.padTop, g.outHeight + span - g.inHeight - g.padTop],
    [g.padLeft, g.outWidth + span - g.inWidth - g.padLeft],
    [0, 0],
  ]);
  if (parts === 1) return padded;
  const [height, width] = [g.outHeight + PART - 1, g.outWidth + PART - 1];
  const views = [];
  for (let a = 0; a < parts; a++) {
    for (let b = 0; b < parts; b++) {
      const size = [g.batchSize, height, width, x.shape[3]];
      views.push(scope.run('Slice', { x: padded }, { begin: [0, PART * a, PART * b, 0], size }));
    }
  }
  return scope.run('Concat', views as never, { axis: 3 });
}

/** A 7s x 7s filter `[7s, 7s, C, O]` as the 7x7 filter `[7, 7, s^2 C, O]` of its parts, (a, b) at (a s + b) C. */
function stackedParts(scope: WasmKernelScope, filter: TensorInfo, parts: number): TensorInfo {
  if (parts === 1) return filter;
  const [size, , inChannels, outChannels] = filter.shape;
  const stacked = scope.allocate([PART, PART, parts * parts * inChannels, outChannels]);
  const [from, to] = [scope.floats(filter), scope.floats(stacked)];
  const tapValues = inChannels * outChannels;
  for (let i = 0; i < PART; i++) {
    for (let j = 0; j < PART; j++) {
      for (let a = 0; a < parts; a++) {
        for (let b = 0; b < parts; b++) {
          const source = ((PART * a + i) * size + PART * b + j) * tapValues;
          const target = ((i * PART + j) * parts * parts + a * parts + b) * tapValues;
          copyRun(from, source, to, target, tapValues);
        }
      }
    }
  }
  return stacked;
}
