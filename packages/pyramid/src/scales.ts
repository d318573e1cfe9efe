import type { ScaleOption } from './types.js';

/** The paper's scales: 2^-2 .. 2^1 in steps of 2^(1/2). */
export const DEFAULT_SCALES: ScaleOption = { minLog2: -2, maxLog2: 1, stepLog2: 0.5 };

/** The list of scales of `option`, validated. */
export function scaleList(option: ScaleOption = DEFAULT_SCALES): number[] {
  const scales = Array.isArray(option)
    ? [...option]
    : scalesFromRange(option as Exclude<ScaleOption, readonly number[]>);
  if (scales.length === 0)
    throw new Error('proposeMasks: options.scales is empty; expected at least one scale');
  for (const s of scales) {
    if (!(Number.isFinite(s) && s > 0)) {
      throw new Error(`proposeMasks: options.scales holds ${s}; expected positive finite numbers`);
    }
  }
  return scales;
}

function scalesFromRange({
  minLog2,
  maxLog2,
  stepLog2,
}: {
  minLog2: number;
  maxLog2: number;
  stepLog2: number;
}) {
  if (!(stepLog2 > 0) || !(maxLog2 >= minLog2)) {
    throw new Error(
      `proposeMasks: options.scales range {minLog2: ${minLog2}, maxLog2: ${maxLog2}, stepLog2: ${stepLog2}}` +
        ' needs stepLog2 > 0 and maxLog2 >= minLog2',
    );
  }
  const count = Math.floor((maxLog2 - minLog2) / stepLog2 + 1e-9) + 1;
  return Array.from({ length: count }, (_, k) => 2 ** (minLog2 + k * stepLog2));
}
