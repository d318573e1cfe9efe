import { util } from '@tensorflow/tfjs-core';
import { type ConvolutionForm, isPlainStrideOne } from './conv-geometry.js';
import { takesPackedProduct } from './matrix-product.js';

/** Below this many filter values packing is cheap: the product took 1.0-1.2x wasm's convolution's time. */
const MIN_FILTER_VALUES = 256 * 256;

/**
 * A 1x1 stride-1 convolution without padding, with a filter of 256 x 256 values or more that is fresh
 * (not seen before) or that our packed product takes (`takesPackedProduct`: it keeps its own packing), as
 * the product `[N H W, C] x [C, O]` through our BatchMatMul, whose plan packs whichever operand costs
 * less. A fresh filter (every training step's, and the input gradient's transposed one) is packed afresh
 * by wasm's own convolution: 1.2-1.9x the product's time on ResNet-50's 10x10 layers (`[4, 10, 10,
 * 256] -> 1024`: 8.5 vs 6.6 ms), 1.15x on MobileNet-v1's 14x14 ones. Null for any other convolution, and
 * for a filter seen before where our packed product does not run: wasm's own convolution keeps its packing
 * (and fuses bias and activation).
 */
export const pointwiseConvolution: ConvolutionForm = (scope, x, filter, attrs, freshFilter) => {
  const { pad } = attrs;
  const [fh, fw, inChannels, outChannels] = filter.shape;
  const unpadded =
    pad === 'same' ||
    pad === 'valid' ||
    (Array.isArray(pad) && pad.flat().every((p) => p === 0)) ||
    pad === 0;
  const pointwise =
    fh === 1 &&
    fw === 1 &&
    isPlainStrideOne(attrs) &&
    unpadded &&
    inChannels * outChannels >= MIN_FILTER_VALUES &&
    x.dtype === 'float32';
  if (!pointwise) return null;
  const pixels = util.sizeFromShape(x.shape.slice(0, 3));
  const multiplyAdds = pixels * inChannels * outChannels;
  if (!freshFilter && !takesPackedProduct(scope.backend, pixels, multiplyAdds)) return null;
  const product = scope.run(
    'BatchMatMul',
    {
      a: scope.reshape(x, [1, pixels, inChannels]),
      b: scope.reshape(filter, [1, inChannels, outChannels]),
    },
    { transposeA: false, transposeB: false },
  );
  return scope.reshape(product, [...x.shape.slice(0, 3), outChannels]);
};
