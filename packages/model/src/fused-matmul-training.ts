import * as tf from '@tensorflow/tfjs-core';
import type { TrainableActivation } from './fused-conv-training.js';
import { gradientThroughActivation } from './relu.js';

/**
 * x W + b (then a ReLU where asked) for the rows of x (`[M, ...]`, each row flattened) and W stored in any
 * shape whose last axis is the output (a linear layer's kernel form): one _FusedMatMul kernel with the
 * gradient registered below. tfjs' `tf.fused.matMul` differentiates through customGrad and reshapes every operand and
 * gradient to rank 3 and back, about 20 kernel calls a layer and step where this runs 10 (the tiny model's
 * heads have five such layers).
 */
export function trainableFusedMatMul(
  x: tf.Tensor,
  weights: tf.Tensor,
  bias: tf.Tensor1D,
  activation: TrainableActivation,
): tf.Tensor2D {
  registerFusedMatMulGradient();
  const rows = x.shape[0];
  const outSize = weights.shape[weights.rank - 1];
  const inSize = weights.size / outSize;
  // Straight to rank 3, which wasm's own kernel reads.
  const inputs = { a: tf.reshape(x, [1, rows, inSize]), b: tf.reshape(weights, [1, inSize, outSize]), bias };
  const attrs = { transposeA: false, transposeB: false, activation };
  const y = tf
    .engine()
    .runKernel(tf._FusedMatMul, inputs, attrs as unknown as tf.NamedAttrMap) as tf.Tensor3D;
  return tf.reshape(y, [rows, outSize]);
}

/**
 * Registers the gradient of _FusedMatMul without transposes, with a linear or ReLU activation and a bias,
 * unless one is registered: dz = dy (ReLU: `reluGradient(dy, y)`), then da = dz b^T, db = a^T dz,
 * dbias = the sum of dz over its rows.
 */
function registerFusedMatMulGradient(): void {
  if (tf.getGradient(tf._FusedMatMul) !== undefined) return;
  tf.registerGradient({
    kernelName: tf._FusedMatMul,
    inputsToSave: ['a', 'b'],
    outputsToSave: [true],
    gradFunc: (dy, saved, attrs) => {
      const [a, b, y] = saved as [tf.Tensor3D, tf.Tensor3D, tf.Tensor3D];
      const { transposeA, transposeB, activation } = attrs as unknown as tf._FusedMatMulAttrs;
      if (transposeA || transposeB) {
        throw new Error('_FusedMatMul gradient (@deepmask/model): only untransposed operands are supported');
      }
      const dz = gradientThroughActivation(dy as tf.Tensor, y, activation, tf._FusedMatMul);
      const product = (left: tf.Tensor, right: tf.Tensor, transposeLeft: boolean, transposeRight: boolean) =>
        tf.engine().runKernel(tf.BatchMatMul, { a: left, b: right }, {
          transposeA: transposeLeft,
          transposeB: transposeRight,
        } as unknown as tf.NamedAttrMap) as tf.Tensor;
      return {
        a: () => product(dz, b, false, true),
        b: () => product(a, dz, true, false),
        bias: () => tf.sum(dz, [0, 1]),
      };
    },
  });
}
