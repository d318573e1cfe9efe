import {
  Conv2DBackpropInput,
  type Conv2DBackpropInputAttrs,
  type Conv2DBackpropInputInputs,
  type KernelConfig,
  type KernelFunc,
  type TensorInfo,
} from '@tensorflow/tfjs-core';
import { type ConvGeometry, convGeometry, dilatedGradientPadding, shape4 } from './conv-geometry.js';
import { directInputGradient } from './direct-input-gradient.js';
import { col2imAdd, windowChunks } from './im2col.js';
import { type PackedProduct, packedProduct } from './packed-product.js';
import { reversedTaps } from './reversed-taps.js';
import { wasmMemoryOf } from './wasm-heap.js';
import { WasmKernelScope } from './wasm-kernel-scope.js';
import { winogradInputGradient } from './winograd-conv2d.js';

/**
 * dx for a forward convolution, on XNNPACK, in whichever of two forms multiplies no zeros. Replaces wasm's
 * own Conv2DBackpropInput, a scalar loop.
 * - 3x3 stride 1 where Winograd takes it (`winogradInputGradient`, any padding): the correlation of the
 *   padded dy with the rotated filter, from the transform of the filter's taps reversed.
 * - Other stride-1 filters with the output as large as the input: a 'valid' convolution of the padded dy
 *   with the filter rotated by 180 degrees and its in/out channels swapped.
 * - Otherwise (strides, small outputs of big filters): the window matrix of dx is dy times the filter
 *   transposed, `[N oh ow, O] x [O, fh fw C]`, added back onto the pixels (col2im), or for few channels
 *   each tap's share added onto the pixels straight from dy (`directInputGradient`). A convolution of the
 *   zero-dilated dy would multiply (stride^2 - 1) zeros for every value.
 * - 1x1 filters: dy times the filter transposed (read in place: no transposed copy), then dilated for
 *   strides (nothing is multiplied by zero).
 */
function conv2DBackpropInput(args: {
  inputs: Conv2DBackpropInputInputs;
  backend: unknown;
  attrs: Conv2DBackpropInputAttrs;
}): TensorInfo {
  const { dy, filter } = args.inputs as { dy: TensorInfo; filter: TensorInfo };
  const { strides, pad, dataFormat, dimRoundingMode, inputShape } = args.attrs;
  const scope = new WasmKernelScope(args.backend as never);
  const g = convGeometry(
    Conv2DBackpropInput,
    inputShape,
    shape4(filter),
    strides,
    1,
    pad,
    dimRoundingMode,
    false,
    dataFormat,
  );
  const byWinograd = winogradInputGradient(scope, dy, filter, g);
  if (byWinograd !== null) return scope.finish(byWinograd);
  const pointwise = g.filterHeight === 1 && g.filterWidth === 1;
  const sameSize = g.outHeight * g.outWidth >= g.inHeight * g.inWidth;
  if (!pointwise && !sameSize) {
    const product = tapProduct(scope, filter);
    return scope.finish(
      product === null
        ? windowGradient(scope, dy, filter, g)
        : directInputGradient(scope, product, dy, filter, g),
    );
  }
  const placement = [[0, 0], ...dilatedGradientPadding(g), [0, 0]] as Array<[number, number]>;
  if (pointwise) {
    // dy [N oh ow, O] times the filter [C, O] transposed, read in place by our product.
    const [batch, height, width, outChannels] = dy.shape;
    const inChannels = filter.shape[2];
    const product = scope.run(
      'BatchMatMul',
      {
        a: scope.reshape(dy, [1, batch * height * width, outChannels]),
        b: scope.reshape(filter, [1, inChannels, outChannels]),
      },
      { transposeA: false, transposeB: true },
    );
    const small = scope.reshape(product, [batch, height, width, inChannels]);
    return scope.finish(scope.padOrCrop(scope.dilate(small, g.strides), placement));
  }
  const convAttrs = { strides: [1, 1], pad: 'valid', dataFormat: 'NHWC', dilations: [1, 1] };
  const rotated = rotateFilter(scope, filter);
  return scope.finish(scope.run('Conv2D', { x: scope.padOrCrop(dy, placement), filter: rotated }, convAttrs));
}

/**
 * A filter of up to this many channel pairs (C x O) that the window form takes goes tap by tap instead
 * (`directInputGradient`): against the window matrix, our product and col2im, measured alternating on 2
 * threads with a fresh filter, the tiny trunk's 3x3 stride-2 layers (8 x 16, 16 x 32, 32 x 32 channels at
 * batch 32) 0.78-0.88x the time, 32 x 64 and 64 x 32 0.77-0.89x; 64 x 64 0.98x, 128 x 128 and 256 x 256
 * (ResNet-50's) 1.06-1.21x, where the product's blocks over all of O pay.
 */
const DIRECT_MAX_CHANNEL_PAIRS = 2048;

/** Our product where dx goes tap by tap (few channel pairs, C a multiple of 8: whole blocks of dx), else null. */
function tapProduct(scope: WasmKernelScope, filter: TensorInfo): PackedProduct | null {
  const [, , channels, outChannels] = filter.shape;
  const memory = wasmMemoryOf(scope.backend);
  if (memory === null || channels % 8 !== 0 || channels * outChannels > DIRECT_MAX_CHANNEL_PAIRS) return null;
  return packedProduct(memory);
}

/** [fh, fw, C, O] -> [fh, fw, O, C] rotated by 180 degrees. */
function rotateFilter(scope: WasmKernelScope, filter: TensorInfo): TensorInfo {
  const [fh, fw] = filter.shape;
  const reversed = fh * fw > 1 ? reversedTaps(scope, filter) : filter;
  return scope.transpose(reversed, [0, 1, 3, 2]);
}

/** col2im of `dy [N oh ow, O] x filter^T [O, fh fw C]`, chunked over output positions: [N, H, W, C]. */
function windowGradient(
  scope: WasmKernelScope,
  dy: TensorInfo,
  filter: TensorInfo,
  g: ConvGeometry,
): TensorInfo {
  const [fh, fw, inChannels, outChannels] = filter.shape;
  const dx = scope.zeros([g.batchSize, g.inHeight, g.inWidth, inChannels]);
  const weights = scope.reshape(filter, [1, fh * fw * inChannels, outChannels]);
  for (const [first, count] of windowChunks(g, fh * fw * inChannels)) {
    const rows = scope.matrixRows(dy, first, count);
    const cols = scope.run('BatchMatMul', { a: rows, b: weights }, { transposeA: false, transposeB: true });
    const [values, target] = [scope.floats(cols), scope.floats(dx)];
    if (!scope.simd()?.col2imAdd(values, g, inChannels, first, target)) {
      col2imAdd(values, g, inChannels, first, target);
    }
  }
  return dx;
}

export const conv2DBackpropInputConfig: KernelConfig = {
  kernelName: Conv2DBackpropInput,
  backendName: 'wasm',
  kernelFunc: conv2DBackpropInput as unknown as KernelFunc,
};
