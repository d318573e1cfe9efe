import {
  BatchMatMul,
  Conv2DBackpropFilter,
  type Conv2DBackpropFilterAttrs,
  type Conv2DBackpropFilterInputs,
  type KernelConfig,
  type KernelFunc,
  type TensorInfo,
} from '@tensorflow/tfjs-core';
import { convGeometry, shape4 } from './conv-geometry.js';
import { tapColumns, windowChunks } from './im2col.js';
import { WasmKernelScope } from './wasm-kernel-scope.js';
import { assertWasmHeadroom } from './wasm-memory-guard.js';
import { adoptedWasmKernel } from './wasm-originals.js';

/**
 * dW[a, b, c, o] = sum_{n,i,j} x[n, s i + a - padTop, s j + b - padLeft, c] dy[n, i, j, o]: per filter tap
 * (a, b), the tap's inputs as a [C, positions] matrix times dy [positions, O], one XNNPACK product each,
 * written straight into dW's [C, O] block of that tap. The products share their right operand dy, which
 * XNNPACK packs once (its cache is keyed by the operand's data). Chunked over output positions so that a
 * tap matrix stays within the budget. A 1x1 filter at stride 1 without padding is the product x^T dy.
 * Replaces a convolution of x^T with dy as the filter, whose 4-channel (batch) inner loop ran at a
 * fraction of the GEMM speed.
 */
function conv2DBackpropFilter(args: {
  inputs: Conv2DBackpropFilterInputs;
  backend: unknown;
  attrs: Conv2DBackpropFilterAttrs;
}): TensorInfo {
  const { x, dy } = args.inputs as { x: TensorInfo; dy: TensorInfo };
  const { strides, pad, dataFormat, dimRoundingMode, filterShape } = args.attrs;
  const scope = new WasmKernelScope(args.backend as never);
  const g = convGeometry(
    Conv2DBackpropFilter,
    shape4(x),
    filterShape,
    strides,
    1,
    pad,
    dimRoundingMode,
    false,
    dataFormat,
  );
  const [fh, fw, inChannels, outChannels] = filterShape;
  const samePixels = g.inHeight === g.outHeight && g.inWidth === g.outWidth;
  if (fh === 1 && fw === 1 && samePixels && g.padTop === 0 && g.padLeft === 0) {
    const pixels = scope.reshape(x, [1, g.batchSize * g.inHeight * g.inWidth, inChannels]);
    const product = scope.run(
      'BatchMatMul',
      { a: pixels, b: scope.matrixRows(dy, 0, g.batchSize * g.outHeight * g.outWidth) },
      { transposeA: true, transposeB: false },
    );
    return scope.finish(scope.reshape(product, filterShape));
  }
  const dW = scope.allocate([...filterShape]);
  const xT = scope.transpose(scope.reshape(x, [g.batchSize * g.inHeight * g.inWidth, inChannels]), [1, 0]);
  const chunks = windowChunks(g, inChannels);
  chunks.forEach(([first, count], chunk) => {
    const dyRows = scope.matrixRows(dy, first, count);
    assertWasmHeadroom(args.backend, 4 * (count * outChannels + outChannels));
    const taps = scope.allocate([1, inChannels, count]);
    for (let a = 0; a < fh; a++) {
      for (let b = 0; b < fw; b++) {
        tapColumns(scope.floats(xT), g, [a, b], first, scope.floats(taps));
        const block = tapProduct(scope, taps, dyRows);
        const offset = (a * fw + b) * inChannels * outChannels;
        addBlock(scope.floats(block), scope.floats(dW), offset, chunk === 0);
      }
    }
  });
  return scope.finish(dW);
}

/** `taps [1, C, count] x dyRows [1, count, O]` on wasm's own XNNPACK product (both untransposed, batch 1). */
function tapProduct(scope: WasmKernelScope, taps: TensorInfo, dyRows: TensorInfo): TensorInfo {
  return scope.runKernel(
    adoptedWasmKernel(BatchMatMul),
    { a: taps, b: dyRows },
    { transposeA: false, transposeB: false },
  );
}

/** Writes (first chunk) or adds `block` into `dW` from `offset`. */
function addBlock(block: Float32Array, dW: Float32Array, offset: number, first: boolean): void {
  if (first) {
    dW.set(block, offset);
    return;
  }
  for (let k = 0; k < block.length; k++) dW[offset + k] += block[k];
}

export const conv2DBackpropFilterConfig: KernelConfig = {
  kernelName: Conv2DBackpropFilter,
  backendName: 'wasm',
  kernelFunc: conv2DBackpropFilter as unknown as KernelFunc,
};
