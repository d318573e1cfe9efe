import { util } from '@tensorflow/tfjs-core';
import { type ConvolutionForm, isPlainStrideOne } from './conv-geometry.js';
import { takesPackedProduct } from './matrix-product.js';

/** Below this many filter values wasm's product took 1.0-1.2x its convolution's time, both packing afresh. */
const MIN_FILTER_VALUES = 256 * 256;

/**
 * A 1x1 stride-1 convolution without padding as the product `[N H W, C] x [C, O]` through our BatchMatMul,
 * where our packed product takes it (`takesPackedProduct`: with a fresh filter, every training step's and
 * the input gradient's transposed one, 0.5-0.85x the time of wasm's convolution, which packs it afresh, on
 * ResNet-50's 1x1 layers at 40x40 from 64 x 64 channels; a filter seen before it keeps packed), or where
 * the filter is fresh and has 256 x 256 values or more (the plan packs whichever operand costs less: wasm's
 * convolution took 1.2-1.9x its time on ResNet-50's 10x10 layers, 1.15x on MobileNet-v1's 14x14 ones).
 * Null for any other convolution: wasm's own convolution keeps a known filter's packing (and fuses bias and
 * activation).
 */
export const pointwiseConvolution: ConvolutionForm = (scope, x, filter, attrs, freshFilter) => {
  const { pad } = attrs;
  const [fh, fw, inChannels, outChannels] = filter.shape;
  const unpadded =
    pad === 'same' ||
    pad === 'valid' ||
    (Array.isArray(pad) && pad.flat().every((p) => p === 0)) ||
    pad === 0;
  const pointwise = fh === 1 && fw === 1 && isPlainStrideOne(attrs) && unpadded && x.dtype === 'float32';
  if (!pointwise) return null;
  const pixels = util.sizeFromShape(x.shape.slice(0, 3));
  const multiplyAdds = pixels * inChannels * outChannels;
  const takes =
    takesPackedProduct(scope.backend, pixels, multiplyAdds) ||
    (freshFilter && inChannels * outChannels >= MIN_FILTER_VALUES);
  if (!takes) return null;
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
