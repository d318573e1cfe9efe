import * as tf from '@tensorflow/tfjs-core';

export type Part = 'trunk' | 'mask' | 'score';

/** How a weight starts before training or import. */
export type Init = 'he' | 'heDepthwise' | 'linear' | 'zeros' | 'ones';

export interface WeightEntry {
  /** Name inside saved files and imports, e.g. `trunk/conv_pw_1/kernel`: stable across instances. */
  name: string;
  part: Part;
  /** Frozen weights (batch norm as a fixed affine) are saved but neither trained nor counted. */
  trainable: boolean;
  variable: tf.Variable;
}

let scopeCount = 0;

/**
 * The named variables of one model. tfjs registers variable names globally, so each model's variables
 * live under its own scope (`deepmask/`, `deepmask_1/`, ...); files and imports use the unscoped names.
 */
export class WeightStore {
  readonly entries: WeightEntry[] = [];
  private readonly byName = new Map<string, WeightEntry>();
  private readonly scope: string;
  private nextSeed: number;
  private readonly derivedByKey = new Map<string, { dataIds: object[]; tensor: tf.Tensor }>();

  constructor(seed: number) {
    this.scope = scopeCount === 0 ? 'deepmask' : `deepmask_${scopeCount}`;
    scopeCount += 1;
    this.nextSeed = seed;
  }

  add(name: string, part: Part, shape: number[], init: Init, trainable = true): tf.Variable {
    if (this.byName.has(name)) throw new Error(`WeightStore: weight '${name}' defined twice`);
    const variable = tf.tidy(() =>
      tf.variable(initialValue(shape, init, this.nextSeed++), trainable, `${this.scope}/${name}`),
    );
    const entry = { name, part, trainable, variable };
    this.entries.push(entry);
    this.byName.set(name, entry);
    return variable;
  }

  get(name: string): WeightEntry | undefined {
    return this.byName.get(name);
  }

  /**
   * The tensor that `make` computes from `from` (e.g. a filter with a frozen affine folded in), kept while
   * none of `from` is assigned a new value: at inference the same tensor comes back call after call, so
   * that the wasm backend's work per filter (XNNPACK's packing, Winograd's transforms) is done once. Made
   * afresh after a training step, freed with the store.
   */
  derived(key: string, from: tf.Tensor[], make: () => tf.Tensor): tf.Tensor {
    const cached = this.derivedByKey.get(key);
    if (cached?.dataIds.every((dataId, i) => dataId === from[i].dataId)) {
      return cached.tensor;
    }
    cached?.tensor.dispose();
    const tensor = tf.keep(tf.tidy(make));
    this.derivedByKey.set(key, { dataIds: from.map((t) => t.dataId), tensor });
    return tensor;
  }

  /** Frees the tensor kept for `key` by `derived`, if any. */
  forget(key: string): void {
    this.derivedByKey.get(key)?.tensor.dispose();
    this.derivedByKey.delete(key);
  }

  dispose(): void {
    for (const entry of this.entries) entry.variable.dispose();
    for (const { tensor } of this.derivedByKey.values()) tensor.dispose();
    this.derivedByKey.clear();
  }
}

function initialValue(shape: number[], init: Init, seed: number): tf.Tensor {
  if (init === 'zeros') return tf.zeros(shape);
  if (init === 'ones') return tf.ones(shape);
  // Kernels are [..., fanIn, fanOut] (conv [kh, kw, cin, cout], linear [in, out], depthwise [kh, kw, c, 1]).
  const fanOut = shape[shape.length - 1];
  const fanIn = init === 'heDepthwise' ? shape[0] * shape[1] : shape.reduce((a, b) => a * b, 1) / fanOut;
  // 'he' keeps ReLU activations' variance; 'linear' is torch's nn.Linear default, uniform +-1/sqrt(fanIn).
  const limit = init === 'linear' ? 1 / Math.sqrt(fanIn) : Math.sqrt(6 / fanIn);
  return tf.randomUniform(shape, -limit, limit, 'float32', seed);
}
