import { util } from '@tensorflow/tfjs-core';
import { type ConvolutionForm, plainStrides } from './conv-geometry.js';
import { multiplyWithBias, takesPackedProduct } from './matrix-product.js';

/** Below this many filter values wasm's product took 1.0-1.2x its convolution's time, both packing afresh. */
const MIN_FILTER_VALUES = 256 * 256;

/**
 * A 1x1 convolution without padding as the product `[N H W, C] x [C, O]` through our BatchMatMul, where
 * our packed product takes it (`takesPackedProduct`: with a fresh filter, every training step's and the
 * input gradient's transposed one, 0.63-0.84x the time of wasm's convolution, which packs it afresh, on
 * ResNet-50's 1x1 layers at 40x40 from 64 x 64 channels; a filter seen before it keeps packed; at stride s
 * on every s-th pixel, sliced out first: ResNet-50's downsampling layers), or at stride 1 where the filter
 * is fresh and has 256 x 256 values or more (the plan packs the cheaper operand: wasm's convolution took
 * 1.2-1.9x its time on ResNet-50's 10x10 layers, 1.15x on MobileNet-v1's 14x14 ones). Null for any other
 * convolution: wasm's own convolution keeps a known filter's packing (and fuses bias and activation).
 * A fused convolution's bias and ReLU or ReLU6 (`epilogue`) go into our product where it takes the product.
 */
export const pointwiseConvolution: ConvolutionForm = (scope, x, filter, attrs, freshFilter, epilogue) => {
  const { pad } = attrs;
  const [fh, fw, inChannels, outChannels] = filter.shape;
  const unpadded =
    pad === 'same' ||
    pad === 'valid' ||
    (Array.isArray(pad) && pad.flat().every((p) => p === 0)) ||
    pad === 0;
  const strides = plainStrides(attrs);
  if (fh !== 1 || fw !== 1 || strides === null || !unpadded || x.dtype !== 'float32') return null;
  const strided = strides[0] > 1 || strides[1] > 1;
  // A strided one reads every s-th pixel (a 1x1 filter never pads, 'same' included): ceil(in / s) of each.
  const [batch, height, width] = x.shape;
  const outShape = [batch, Math.ceil(height / strides[0]), Math.ceil(width / strides[1])];
  const pixels = util.sizeFromShape(outShape);
  const takes =
    takesPackedProduct(scope.backend, pixels) ||
    (!strided && freshFilter && inChannels * outChannels >= MIN_FILTER_VALUES);
  if (!takes) return null;
  const sampled = strided ? scope.stridedSlice(x, [0, 0, 0, 0], x.shape, [1, ...strides, 1]) : x;
  const product = multiplyWithBias(
    scope,
    scope.reshape(sampled, [1, pixels, inChannels]),
    scope.reshape(filter, [1, inChannels, outChannels]),
    epilogue,
  );
  return scope.reshape(product, [...outShape, outChannels]);
};
