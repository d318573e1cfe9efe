import * as tf from '@tensorflow/tfjs-core';
import { trainableFusedConv, trainableFusedDepthwiseConv } from './fused-conv-training.js';
import { relu, relu6 } from './relu.js';
import type { Part, WeightStore } from './weights.js';

/** 'same' and 'valid' as in TensorFlow; a number is torch's symmetric zero padding. */
export type Padding = 'same' | 'valid' | number;

/** A trunk is data: a list of these, built into variables and a forward function by `buildLayers`. */
export type LayerSpec =
  | {
      kind: 'conv';
      name: string;
      size: number;
      stride: number;
      pad: Padding;
      outChannels: number;
      bias: boolean;
    }
  | { kind: 'depthwise'; name: string; size: number; stride: number; pad: Padding }
  /** Batch norm frozen as a per-channel affine (scale, offset). */
  | { kind: 'affine'; name: string }
  | { kind: 'relu' }
  | { kind: 'relu6' }
  | { kind: 'maxPool'; name: string; size: number; stride: number; pad: Padding }
  /** relu(body(x) + shortcut(x)); an empty shortcut is the identity. */
  | { kind: 'residual'; name: string; body: LayerSpec[]; shortcut: LayerSpec[] };

/** [height, width, channels] of one example. */
export type Shape3 = [number, number, number];

export interface SummaryRow {
  name: string;
  kind: string;
  part: Part;
  /** Output shape of one patch in the patch form, [h, w, c] or [features]. */
  outputShape: number[];
  /** Trainable parameters. */
  params: number;
  /** Frozen values (batch norm affines): saved, not trained. */
  frozenValues: number;
}

export interface BuiltLayers {
  apply(x: tf.Tensor4D): tf.Tensor4D;
  outShape: Shape3;
  rows: SummaryRow[];
}

function outSize(inSize: number, size: number, stride: number, pad: Padding): number {
  if (pad === 'same') return Math.ceil(inSize / stride);
  const padded = pad === 'valid' ? inSize : inSize + 2 * pad;
  return Math.floor((padded - size) / stride) + 1;
}

interface ConvParts {
  kernel: tf.Variable;
  bias: tf.Variable | null;
  stride: number;
  pad: Padding;
  depthwise: boolean;
}

export type Activation = 'relu' | 'relu6';

/** The activation step; under a gradient tape both take `reluGradient` (`relu.ts`). */
export function activate<T extends tf.Tensor>(x: T, activation: Activation): T {
  return activation === 'relu' ? relu(x) : relu6(x);
}

/** One built layer; conv, affine and activation steps say what they are so that `fuse` can merge them. */
interface Step {
  apply(x: tf.Tensor4D): tf.Tensor4D;
  outShape: Shape3;
  rows: SummaryRow[];
  conv?: ConvParts;
  affine?: { scale: tf.Variable; offset: tf.Variable };
  activation?: Activation;
}

function buildOne(spec: LayerSpec, store: WeightStore, part: Part, prefix: string, shape: Shape3): Step {
  const [h, w, c] = shape;
  switch (spec.kind) {
    case 'conv': {
      const name = `${prefix}/${spec.name}`;
      const kernel = store.add(`${name}/kernel`, part, [spec.size, spec.size, c, spec.outChannels], 'he');
      const bias = spec.bias ? store.add(`${name}/bias`, part, [spec.outChannels], 'zeros') : null;
      const { stride, pad } = spec;
      const outShape: Shape3 = [
        outSize(h, spec.size, stride, pad),
        outSize(w, spec.size, stride, pad),
        spec.outChannels,
      ];
      const params = kernel.size + (bias?.size ?? 0);
      return {
        apply: (x) => {
          const y = tf.conv2d(x, kernel as tf.Tensor4D, stride, pad);
          return bias === null ? y : tf.add(y, bias);
        },
        conv: { kernel, bias, stride, pad, depthwise: false },
        outShape,
        rows: [
          {
            name,
            kind: `conv ${spec.size}x${spec.size}/${stride}`,
            part,
            outputShape: outShape,
            params,
            frozenValues: 0,
          },
        ],
      };
    }
    case 'depthwise': {
      const name = `${prefix}/${spec.name}`;
      const kernel = store.add(`${name}/depthwise_kernel`, part, [spec.size, spec.size, c, 1], 'heDepthwise');
      const { stride, pad } = spec;
      const outShape: Shape3 = [outSize(h, spec.size, stride, pad), outSize(w, spec.size, stride, pad), c];
      return {
        apply: (x) => tf.depthwiseConv2d(x, kernel as tf.Tensor4D, stride, pad),
        conv: { kernel, bias: null, stride, pad, depthwise: true },
        outShape,
        rows: [
          {
            name,
            kind: `depthwise ${spec.size}x${spec.size}/${stride}`,
            part,
            outputShape: outShape,
            params: kernel.size,
            frozenValues: 0,
          },
        ],
      };
    }
    case 'affine': {
      const name = `${prefix}/${spec.name}`;
      const scale = store.add(`${name}/scale`, part, [c], 'ones', false);
      const offset = store.add(`${name}/offset`, part, [c], 'zeros', false);
      return {
        apply: (x) => tf.add(tf.mul(x, scale), offset),
        affine: { scale, offset },
        outShape: shape,
        rows: [{ name, kind: 'frozen batch norm', part, outputShape: shape, params: 0, frozenValues: 2 * c }],
      };
    }
    case 'relu':
    case 'relu6':
      return { apply: (x) => activate(x, spec.kind), activation: spec.kind, outShape: shape, rows: [] };
    case 'maxPool': {
      const { size, stride, pad } = spec;
      const outShape: Shape3 = [outSize(h, size, stride, pad), outSize(w, size, stride, pad), c];
      return {
        apply: (x) => tf.maxPool(x, size, stride, pad),
        outShape,
        rows: [
          {
            name: `${prefix}/${spec.name}`,
            kind: `max-pool ${size}x${size}/${stride}`,
            part,
            outputShape: outShape,
            params: 0,
            frozenValues: 0,
          },
        ],
      };
    }
    case 'residual': {
      const name = `${prefix}/${spec.name}`;
      const body = buildLayers(spec.body, store, part, name, shape);
      const shortcut = buildLayers(spec.shortcut, store, part, name, shape);
      const [bh, bw, bc] = body.outShape;
      const [sh, sw, sc] = shortcut.outShape;
      if (bh !== sh || bw !== sw || bc !== sc) {
        throw new Error(
          `${name}: body gives ${body.outShape}, shortcut ${shortcut.outShape}; they must match`,
        );
      }
      return {
        apply: (x) => relu(tf.add(body.apply(x), shortcut.apply(x))) as tf.Tensor4D,
        outShape: body.outShape,
        rows: [...body.rows, ...shortcut.rows],
      };
    }
  }
}

/** Creates the variables of `specs` (named `<prefix>/<layer>/<weight>`) and returns their forward function. */
export function buildLayers(
  specs: LayerSpec[],
  store: WeightStore,
  part: Part,
  prefix: string,
  shape: Shape3,
): BuiltLayers {
  const steps: Step[] = [];
  let current = shape;
  for (const spec of specs) {
    const step = buildOne(spec, store, part, prefix, current);
    steps.push(step);
    current = step.outShape;
  }
  const fused = fuse(steps, store);
  return {
    apply: (x) => fused.reduce((y, step) => step.apply(y), x),
    outShape: current,
    rows: steps.flatMap((step) => step.rows),
  };
}

/**
 * conv [+ frozen affine] [+ ReLU] as one fused conv: conv(x, W) * s + o = conv(x, W * s) + o, so the
 * affine costs a pass over the weights instead of two over the activations, and bias and ReLU ride
 * along in the conv kernel (forward and gradients).
 */
function fuse(steps: Step[], store: WeightStore): Step[] {
  const out: Step[] = [];
  for (let i = 0; i < steps.length; i++) {
    const conv = steps[i].conv;
    const affine = steps[i + 1]?.affine;
    const activationAt = affine ? i + 2 : i + 1;
    const activation = steps[activationAt]?.activation;
    if (conv === undefined || (affine === undefined && activation === undefined && conv.bias === null)) {
      out.push(steps[i]);
      continue;
    }
    const last = activation ? activationAt : activationAt - 1;
    out.push({
      apply: fusedConv(conv, affine, activation, store),
      outShape: steps[last].outShape,
      rows: [],
    });
    i = last;
  }
  return out;
}

function fusedConv(
  conv: ConvParts,
  affine: Step['affine'],
  activation: Activation | undefined,
  store: WeightStore,
) {
  return (x: tf.Tensor4D): tf.Tensor4D => {
    const { stride, pad } = conv;
    if (tf.engine().state.gradientDepth > 0) {
      const { filter, bias } = folded(conv, affine, store, 'training');
      const trainable = conv.depthwise ? trainableFusedDepthwiseConv : trainableFusedConv;
      return trainable(x, filter as tf.Tensor4D, bias, stride, pad, activation ?? 'linear');
    }
    const { filter, bias } = folded(conv, affine, store, 'inference');
    const fused = conv.depthwise ? tf.fused.depthwiseConv2d : tf.fused.conv2d;
    return fused({
      x,
      filter: filter as tf.Tensor4D,
      strides: stride,
      pad,
      bias,
      activation: activation ?? 'linear',
    });
  };
}

/**
 * The conv's filter and bias with a following affine folded in: filter * scale (per output channel, per
 * channel c of a depthwise [k, k, c, 1]), bias * scale + offset. At inference the folded tensors are kept
 * in the store while the weights stay the same (`WeightStore.derived`); in training they are made afresh
 * under the tape, and any kept ones are freed (the step is about to change the weights, and a backend may
 * hold work of its own for them: Winograd transforms on wasm).
 */
function folded(conv: ConvParts, affine: Step['affine'], store: WeightStore, use: 'inference' | 'training') {
  if (affine === undefined) return { filter: conv.kernel, bias: conv.bias ?? undefined };
  const { kernel, bias } = conv;
  const from = [kernel, affine.scale, affine.offset, ...(bias === null ? [] : [bias])];
  const kept = (what: string, make: () => tf.Tensor) => {
    const key = `${kernel.name} ${what}`;
    if (use === 'inference') return store.derived(key, from, make);
    store.forget(key);
    return make();
  };
  const scale = conv.depthwise ? () => tf.reshape(affine.scale, [1, 1, -1, 1]) : () => affine.scale;
  return {
    filter: kept('folded filter', () => tf.mul(kernel, scale())),
    bias:
      bias === null
        ? affine.offset
        : kept('folded bias', () => tf.add(tf.mul(bias, affine.scale), affine.offset)),
  };
}
