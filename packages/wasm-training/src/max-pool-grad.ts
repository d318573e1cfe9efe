import {
  backend_util,
  type KernelConfig,
  type KernelFunc,
  MaxPoolGrad,
  type MaxPoolGradAttrs,
  type MaxPoolGradInputs,
  type TensorInfo,
} from '@tensorflow/tfjs-core';
import { WasmKernelScope } from './wasm-kernel-scope.js';

/**
 * dx = dy scattered (summed) onto each window's first maximum. The window maximum is an ArgMax over the
 * fh * fw strided views of the input padded with -Infinity; flat input indices come from broadcast
 * ranges, and ScatterNd sums. Replaces wasm's MaxPoolGrad and MaxPoolWithArgmax (tfjs 4.22), which
 * never select a negative maximum and so drop or misplace the gradient of all-negative windows.
 */
function maxPoolGrad(args: {
  inputs: MaxPoolGradInputs;
  backend: unknown;
  attrs: MaxPoolGradAttrs;
}): TensorInfo {
  const { dy, input } = args.inputs as { dy: TensorInfo; input: TensorInfo };
  const { filterSize, strides, pad, dimRoundingMode } = args.attrs;
  const [n, h, w, c] = input.shape;
  const info = backend_util.computePool2DInfo([n, h, w, c], filterSize, strides, 1, pad, dimRoundingMode);
  const {
    outHeight: oh,
    outWidth: ow,
    strideHeight: sh,
    strideWidth: sw,
    filterHeight: fh,
    filterWidth: fw,
  } = info;
  const { top, left } = info.padInfo;
  const scope = new WasmKernelScope(args.backend as never);

  const rows = (oh - 1) * sh + fh;
  const cols = (ow - 1) * sw + fw;
  const padded = scope.run(
    'PadV2',
    { x: input },
    {
      paddings: [
        [0, 0],
        [top, Math.max(rows - h - top, 0)],
        [left, Math.max(cols - w - left, 0)],
        [0, 0],
      ],
      constantValue: Number.NEGATIVE_INFINITY,
    },
  );
  const views: TensorInfo[] = [];
  for (let a = 0; a < fh; a++) {
    for (let b = 0; b < fw; b++) {
      const view = scope.stridedSlice(
        padded,
        [0, a, b, 0],
        [n, a + (oh - 1) * sh + 1, b + (ow - 1) * sw + 1, c],
        [1, sh, sw, 1],
      );
      views.push(scope.reshape(view, [1, n * oh * ow * c]));
    }
  }
  // Concat takes its inputs as an array, not a map.
  const window = scope.run('Concat', views as never, { axis: 0 }); // [fh fw, M]
  const offsetIndex = scope.run('ArgMax', { x: window }, { axis: [0] }); // [M] in 0 .. fh fw - 1
  // Flat input index of window offset (a, b) relative to the window's top-left input position.
  const offsets = scope.run('Range', {}, { start: 0, stop: fh * fw, step: 1, dtype: 'int32' });
  const offsetRow = scope.run('FloorDiv', { a: offsets, b: intScalar(scope, fw) });
  const offsetCol = scope.run('Sub', {
    a: offsets,
    b: scope.run('Multiply', { a: offsetRow, b: intScalar(scope, fw) }),
  });
  const offsetFlat = scope.run('Add', {
    a: scope.run('Multiply', { a: offsetRow, b: intScalar(scope, w * c) }),
    b: scope.run('Multiply', { a: offsetCol, b: intScalar(scope, c) }),
  });
  const chosenOffset = scope.run(
    'GatherV2',
    { x: offsetFlat, indices: offsetIndex },
    { axis: 0, batchDims: 0 },
  );
  const base = windowOrigins(scope, [n, h, w, c], [oh, ow], [sh, sw], [top, left]); // [N, oh, ow, C]
  const indices = scope.run('Add', { a: scope.reshape(base, [n * oh * ow * c]), b: chosenOffset });
  const scattered = scope.run(
    'ScatterNd',
    { indices: scope.reshape(indices, [n * oh * ow * c, 1]), updates: scope.reshape(dy, [n * oh * ow * c]) },
    { shape: [n * h * w * c] },
  );
  return scope.finish(scope.reshape(scattered, [n, h, w, c]));
}

function intScalar(scope: WasmKernelScope, value: number): TensorInfo {
  return scope.run('Fill', {}, { shape: [], value, dtype: 'int32' });
}

// Flat index of each window's top-left input position (possibly in the padding): [N, oh, ow, C].
function windowOrigins(
  scope: WasmKernelScope,
  [n, h, w, c]: number[],
  [oh, ow]: number[],
  [sh, sw]: number[],
  [top, left]: number[],
): TensorInfo {
  const axis = (start: number, count: number, step: number, shape: number[]) =>
    scope.reshape(scope.run('Range', {}, { start, stop: start + count * step, step, dtype: 'int32' }), shape);
  const batch = axis(0, n, h * w * c, [n, 1, 1, 1]);
  const row = axis(-top * w * c, oh, sh * w * c, [1, oh, 1, 1]);
  const col = axis(-left * c, ow, sw * c, [1, 1, ow, 1]);
  const channel = axis(0, c, 1, [1, 1, 1, c]);
  return scope.run('Add', {
    a: scope.run('Add', { a: batch, b: row }),
    b: scope.run('Add', { a: col, b: channel }),
  });
}

export const maxPoolGradConfig: KernelConfig = {
  kernelName: MaxPoolGrad,
  backendName: 'wasm',
  kernelFunc: maxPoolGrad as unknown as KernelFunc,
};
