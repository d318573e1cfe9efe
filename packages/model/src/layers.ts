import * as tf from '@tensorflow/tfjs-core';
import type { Part, WeightStore } from './weights.js';

/** 'same' and 'valid' as in TensorFlow; a number is torch's symmetric zero padding. */
export type Padding = 'same' | 'valid' | number;

/** A trunk is data: a list of these, built into variables and a forward function by `buildLayers`. */
export type LayerSpec =
  | { kind: 'conv'; name: string; size: number; stride: number; pad: Padding; outChannels: number; bias: boolean }
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

type Step = { apply(x: tf.Tensor4D): tf.Tensor4D; outShape: Shape3; rows: SummaryRow[] };

function buildOne(spec: LayerSpec, store: WeightStore, part: Part, prefix: string, shape: Shape3): Step {
  const [h, w, c] = shape;
  switch (spec.kind) {
    case 'conv': {
      const name = `${prefix}/${spec.name}`;
      const kernel = store.add(`${name}/kernel`, part, [spec.size, spec.size, c, spec.outChannels], 'he');
      const bias = spec.bias ? store.add(`${name}/bias`, part, [spec.outChannels], 'zeros') : null;
      const { stride, pad } = spec;
      const outShape: Shape3 = [outSize(h, spec.size, stride, pad), outSize(w, spec.size, stride, pad), spec.outChannels];
      const params = kernel.size + (bias?.size ?? 0);
      return {
        apply: (x) => {
          const y = tf.conv2d(x, kernel as tf.Tensor4D, stride, pad);
          return bias === null ? y : tf.add(y, bias);
        },
        outShape,
        rows: [{ name, kind: `conv ${spec.size}x${spec.size}/${stride}`, part, outputShape: outShape, params, frozenValues: 0 }],
      };
    }
    case 'depthwise': {
      const name = `${prefix}/${spec.name}`;
      const kernel = store.add(`${name}/depthwise_kernel`, part, [spec.size, spec.size, c, 1], 'heDepthwise');
      const { stride, pad } = spec;
      const outShape: Shape3 = [outSize(h, spec.size, stride, pad), outSize(w, spec.size, stride, pad), c];
      return {
        apply: (x) => tf.depthwiseConv2d(x, kernel as tf.Tensor4D, stride, pad),
        outShape,
        rows: [
          { name, kind: `depthwise ${spec.size}x${spec.size}/${stride}`, part, outputShape: outShape, params: kernel.size, frozenValues: 0 },
        ],
      };
    }
    case 'affine': {
      const name = `${prefix}/${spec.name}`;
      const scale = store.add(`${name}/scale`, part, [c], 'ones', false);
      const offset = store.add(`${name}/offset`, part, [c], 'zeros', false);
      return {
        apply: (x) => tf.add(tf.mul(x, scale), offset),
        outShape: shape,
        rows: [{ name, kind: 'frozen batch norm', part, outputShape: shape, params: 0, frozenValues: 2 * c }],
      };
    }
    case 'relu':
      return { apply: (x) => tf.relu(x), outShape: shape, rows: [] };
    case 'relu6':
      return { apply: (x) => tf.relu6(x), outShape: shape, rows: [] };
    case 'maxPool': {
      const { size, stride, pad } = spec;
      const outShape: Shape3 = [outSize(h, size, stride, pad), outSize(w, size, stride, pad), c];
      return {
        apply: (x) => tf.maxPool(x, size, stride, pad),
        outShape,
        rows: [
          { name: `${prefix}/${spec.name}`, kind: `max-pool ${size}x${size}/${stride}`, part, outputShape: outShape, params: 0, frozenValues: 0 },
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
        throw new Error(`${name}: body gives ${body.outShape}, shortcut ${shortcut.outShape}; they must match`);
      }
      return {
        apply: (x) => tf.relu(tf.add(body.apply(x), shortcut.apply(x))) as tf.Tensor4D,
        outShape: body.outShape,
        rows: [...body.rows, ...shortcut.rows],
      };
    }
  }
}

/** Creates the variables of `specs` (named `<prefix>/<layer>/<weight>`) and returns their forward function. */
export function buildLayers(specs: LayerSpec[], store: WeightStore, part: Part, prefix: string, shape: Shape3): BuiltLayers {
  const steps: Step[] = [];
  let current = shape;
  for (const spec of specs) {
    const step = buildOne(spec, store, part, prefix, current);
    steps.push(step);
    current = step.outShape;
  }
  return {
    apply: (x) => steps.reduce((y, step) => step.apply(y), x),
    outShape: current,
    rows: steps.flatMap((step) => step.rows),
  };
}
