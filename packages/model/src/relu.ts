import * as tf from '@tensorflow/tfjs-core';

/**
 * The kernel that a backend may register for the gradient through a ReLU (inputs dy and y, output
 * `dy step(y)`, y the ReLU's output or input): `@deepmask/wasm-training` registers one pass of SIMD for
 * wasm. Where none is registered, `reluGradient` runs Step and Multiply.
 */
export const RELU_GRADIENT_KERNEL = 'DeepMaskReluGradient';

/** `dy step(y)`: the gradient through a ReLU whose output (or input) is y. */
export function reluGradient(dy: tf.Tensor, y: tf.Tensor): tf.Tensor {
  if (tf.getKernel(RELU_GRADIENT_KERNEL, tf.getBackend()) !== undefined) {
    return tf.engine().runKernel(RELU_GRADIENT_KERNEL, { dy, y }) as tf.Tensor;
  }
  return tf.mul(dy, tf.step(y));
}

/**
 * The gradient of a fused kernel's output y (`kernelName`, for the error) through its activation: dy for
 * 'linear', `reluGradient(dy, y)` for 'relu'; any other activation is refused (its gradient needs its input).
 */
export function gradientThroughActivation(
  dy: tf.Tensor,
  y: tf.Tensor,
  activation: string | undefined,
  kernelName: string,
): tf.Tensor {
  if (activation === 'relu') return reluGradient(dy, y);
  if (activation === 'linear') return dy;
  throw new Error(`${kernelName} gradient (@deepmask/model): activation '${activation}' is not supported`);
}

/** ReLU; under a gradient tape with `reluGradient` behind it (tfjs' own gradient runs Step, Cast and Multiply). */
export function relu<T extends tf.Tensor>(x: T): T {
  return tf.engine().state.gradientDepth > 0 ? (reluWithOneKernelGradient(x) as T) : tf.relu(x);
}

const reluWithOneKernelGradient = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
  const [x, save] = args as [tf.Tensor, tf.GradSaveFunc];
  const y = tf.relu(x);
  save([y]);
  return { value: y, gradFunc: (dy: tf.Tensor, [saved]: tf.Tensor[]) => reluGradient(dy, saved) };
});
