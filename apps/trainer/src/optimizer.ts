import { sgdMomentumStep } from '@deepmask/wasm-training/sgd-momentum';
import * as tf from '@tensorflow/tfjs-core';
import { TrainerError } from './errors.js';

export interface SgdOptions {
  momentum: number;
  weightDecay: number;
}

/** Momentum buffers in the order of the model's `trainableVariables`, as saved in a checkpoint. */
export interface SgdState {
  shapes: number[][];
  buffers: Float32Array[];
}

/**
 * SGD with momentum and L2 weight decay as in Torch (the official DeepMask code):
 * `d = g + wd * w; v = mu * v + d; w = w - lr * v` (`sgdMomentumStep`: one pass per variable on wasm).
 */
export class SgdMomentum {
  private readonly velocities: tf.Variable[];

  constructor(
    private readonly variables: tf.Variable[],
    private readonly options: SgdOptions,
  ) {
    this.velocities = variables.map((v) =>
      tf.tidy(() => tf.variable(tf.zerosLike(v), false, `${v.name}/momentum`)),
    );
  }

  applyGradients(gradients: Record<string, tf.Tensor>, learningRate: number): void {
    const { momentum, weightDecay } = this.options;
    this.variables.forEach((variable, i) => {
      const gradient = gradients[variable.name];
      if (gradient === undefined) return;
      sgdMomentumStep(variable, this.velocities[i], gradient, { learningRate, momentum, weightDecay });
    });
  }

  async state(): Promise<SgdState> {
    return {
      shapes: this.velocities.map((v) => v.shape),
      buffers: await Promise.all(this.velocities.map(async (v) => (await v.data()) as Float32Array)),
    };
  }

  loadState(state: SgdState, source: string): void {
    if (state.buffers.length !== this.variables.length) {
      throw new TrainerError(
        `${source}: ${state.buffers.length} momentum buffers, but the model has ${this.variables.length} trainable variables`,
      );
    }
    this.variables.forEach((variable, i) => {
      if (state.buffers[i].length !== variable.size) {
        throw new TrainerError(
          `${source}: momentum buffer ${i} has ${state.buffers[i].length} values, expected ${variable.size} for '${variable.name}'`,
        );
      }
      tf.tidy(() => this.velocities[i].assign(tf.tensor(state.buffers[i], variable.shape, 'float32')));
    });
  }

  dispose(): void {
    for (const v of this.velocities) v.dispose();
  }
}
