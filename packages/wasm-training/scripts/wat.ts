// Small builders of wat text shared by the generators of the product module.

/** `(local.get $name)`. */
export const get = (name: string) => `(local.get $${name})`;
/** `(local.set $name value)`. */
export const set = (name: string, value: string) => `(local.set $${name} ${value})`;

/**
 * `target += s * factor` for v128 locals (four lanes): relaxed SIMD's fused multiply-add where `fused`
 * (one FMA instruction where the CPU has FMA), else a multiply and an add.
 */
export function multiplyAdd(fused: boolean, target: string, factor: string): string {
  return fused
    ? set(target, `(f32x4.relaxed_madd ${get('s')} ${get(factor)} ${get(target)})`)
    : set(target, `(f32x4.add ${get(target)} (f32x4.mul ${get('s')} ${get(factor)}))`);
}
