// Small builders of wat text shared by the generators of the product module.

/** `(local.get $name)`. */
export const get = (name: string) => `(local.get $${name})`;
/** `(local.set $name value)`. */
export const set = (name: string, value: string) => `(local.set $${name} ${value})`;

/** `(i32.add a b)`. */
export const add = (a: string, b: string) => `(i32.add ${a} ${b})`;
/** `(i32.sub a b)`. */
export const sub = (a: string, b: string) => `(i32.sub ${a} ${b})`;
/** `(i32.mul a b)`. */
export const mul = (a: string, b: string) => `(i32.mul ${a} ${b})`;
/** `(i32.const value)`. */
export const i32 = (value: number) => `(i32.const ${value})`;
/** A count of floats as bytes. */
export const bytes = (floats: string) => `(i32.shl ${floats} ${i32(2)})`;
/** The smaller of two signed i32s. */
export const min = (a: string, b: string) => `(select ${a} ${b} (i32.lt_s ${a} ${b}))`;
/** The larger of two signed i32s. */
export const max = (a: string, b: string) => `(select ${a} ${b} (i32.gt_s ${a} ${b}))`;

/**
 * `target += scale * factor` for v128 locals (four lanes; `scale` the local `s` unless named): relaxed
 * SIMD's fused multiply-add where `fused` (one FMA instruction where the CPU has FMA), else a multiply and
 * an add.
 */
export function multiplyAdd(fused: boolean, target: string, factor: string, scale = 's'): string {
  return fused
    ? set(target, `(f32x4.relaxed_madd ${get(scale)} ${get(factor)} ${get(target)})`)
    : set(target, `(f32x4.add ${get(target)} (f32x4.mul ${get(scale)} ${get(factor)}))`);
}

/**
 * The epilogues of productRows and convolutionRows: a per-column bias added to the finished sums, then a
 * ReLU for the second, a ReLU6 for the third.
 */
export const BIAS_EPILOGUE = 1;
export const RELU_EPILOGUE = 2;
export const RELU6_EPILOGUE = 3;

/**
 * Applies the epilogue in the i32 local `epilogue` (0: none) to `accumulators`, each row's two vectors of
 * eight columns in turn: the columns' 8 bias values at the i32 local `bias` (loaded into the v128 locals
 * `vectors`) added, then tfjs' ReLU, x < 0 ? 0 : x (NaN and -0 kept), or its ReLU6, min(max(x, 0), 6)
 * (NaN kept).
 */
export function epilogueWat(
  accumulators: string[],
  bias: string,
  vectors: [string, string],
  epilogue: string,
): string {
  const biasAdded = accumulators.map((name, index) =>
    set(name, `(f32x4.add ${get(name)} ${get(vectors[index % 2])})`),
  );
  const relu = accumulators.map((name) => set(name, `(f32x4.pmax ${get(name)} (v128.const i32x4 0 0 0 0))`));
  const cap = accumulators.map((name) => set(name, `(f32x4.pmin ${get(name)} (v128.const f32x4 6 6 6 6))`));
  return `(if ${get(epilogue)}
      (then
        ${set(vectors[0], `(v128.load ${get(bias)})`)}
        ${set(vectors[1], `(v128.load offset=16 ${get(bias)})`)}
        ${biasAdded.join('\n        ')}
        (if (i32.ge_u ${get(epilogue)} (i32.const ${RELU_EPILOGUE}))
          (then
            ${relu.join('\n            ')}))
        (if (i32.eq ${get(epilogue)} (i32.const ${RELU6_EPILOGUE}))
          (then
            ${cap.join('\n            ')}))))`;
}
