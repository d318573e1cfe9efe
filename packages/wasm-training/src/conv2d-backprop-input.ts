import {
  Conv2DBackpropInput,
  type Conv2DBackpropInputAttrs,
  type Conv2DBackpropInputInputs,
  type KernelConfig,
  type KernelFunc,
  type TensorInfo,
} from '@tensorflow/tfjs-core';
import { convGeometry, dilatedGradientPadding, shape4 } from './conv-geometry.js';
import { WasmKernelScope } from './wasm-kernel-scope.js';

/**
 * dx = a stride-1 'valid' convolution (XNNPACK) of dy, zero-dilated by the forward stride and padded,
 * with the filter rotated by 180 degrees and its in/out channels swapped. Replaces wasm's own
 * Conv2DBackpropInput, a scalar loop.
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
  const convAttrs = { strides: [1, 1], pad: 'valid', dataFormat: 'NHWC', dilations: [1, 1] };
  // [fh, fw, C, O] -> rotated [fh, fw, O, C]
  const rotated = scope.transpose(scope.run('Reverse', { x: filter }, { dims: [0, 1] }), [0, 1, 3, 2]);
  const placement = [[0, 0], ...dilatedGradientPadding(g), [0, 0]] as Array<[number, number]>;
  // A 1x1 filter commutes with the zero dilation: convolve the small dy first and waste nothing.
  const dx =
    g.filterHeight === 1 && g.filterWidth === 1
      ? scope.padOrCrop(
          scope.dilate(scope.run('Conv2D', { x: dy, filter: rotated }, convAttrs), g.strides),
          placement,
        )
      : scope.run(
          'Conv2D',
          { x: scope.padOrCrop(scope.dilate(dy, g.strides), placement), filter: rotated },
          convAttrs,
        );
  return scope.finish(dx);
}

export const conv2DBackpropInputConfig: KernelConfig = {
  kernelName: Conv2DBackpropInput,
  backendName: 'wasm',
  kernelFunc: conv2DBackpropInput as unknown as KernelFunc,
};
