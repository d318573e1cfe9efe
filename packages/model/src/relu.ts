import * as tf from '@tensorflow/tfjs-core';

/**
 * The kernel that a backend may register for the gradient through a ReLU or a ReLU6 (inputs dy and y,
 * attribute `cap`: output dy where 0 < y <= cap, else 0, NaN where y is NaN; y a ReLU's output or input,
 * a ReLU6's input): `@deepmask/wasm-training` registers one pass of SIMD for wasm. Where none is
 * registered, `reluGradient` runs Step (and Sub) and Multiply.
 */
export const RELU_GRADIENT_KERNEL = 'DeepMaskReluGradient';

/**
 * The gradient through a ReLU whose output (or input) is y, `dy step(y)`, or with `cap` through a ReLU6
 * whose input is y, `dy (step(y) - step(y - cap))`: tfjs' own values (dy where 0 < y <= cap), without the
 * bool tensor and two casts of tfjs' ReLU6 gradient.
 */
export function reluGradient(dy: tf.Tensor, y: tf.Tensor, cap = Number.POSITIVE_INFINITY): tf.Tensor {
  if (tf.getKernel(RELU_GRADIENT_KERNEL, tf.getBackend()) !== undefined) {
    return tf.engine().runKernel(RELU_GRADIENT_KERNEL, { dy, y }, { cap }) as tf.Tensor;
  }
  if (cap === Number.POSITIVE_INFINITY) return tf.mul(dy, tf.step(y));
  return tf.mul(dy, tf.sub(tf.step(y), tf.step(tf.sub(y, cap))));
}

/**
 * The largest float32 below 6. On a ReLU6's output y, `0 < y <= RELU6_OUTPUT_CAP` is `0 < x < 6` on its
 * input: the output alone cannot tell an input of exactly 6 (where tfjs' own gradient passes dy) from one
 * above it, so there the gradient is 0, as PyTorch's ReLU6 has it.
 */
const RELU6_OUTPUT_CAP = Math.fround(6 - 2 ** -21);

/**
 * The gradient of a fused kernel's output y (`kernelName`, for the error) through its activation: dy for
 * 'linear', `reluGradient(dy, y)` for 'relu', dy where 0 < y < 6 for 'relu6'; any other activation is
 * refused (its gradient needs its input).
 */
export function gradientThroughActivation(
  dy: tf.Tensor,
  y: tf.Tensor,
  activation: string | undefined,
  kernelName: string,
): tf.Tensor {
  if (activation === 'relu') return reluGradient(dy, y);
  if (activation === 'relu6') return reluGradient(dy, y, RELU6_OUTPUT_CAP);
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

const RELU6_CAP = 6;

/** ReLU6; under a gradient tape with `reluGradient` (cap 6) behind it. */
export function relu6<T extends tf.Tensor>(x: T): T {
  return tf.engine().state.gradientDepth > 0 ? (relu6WithOneKernelGradient(x) as T) : tf.relu6(x);
}

const relu6WithOneKernelGradient = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
  const [x, save] = args as [tf.Tensor, tf.GradSaveFunc];
  save([x]);
  return {
    value: tf.relu6(x),
    gradFunc: (dy: tf.Tensor, [saved]: tf.Tensor[]) => reluGradient(dy, saved, RELU6_CAP),
  };
});
