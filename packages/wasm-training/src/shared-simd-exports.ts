/** The name that the SIMD module's functions of Winograd F(m x m, r x r) start with. */
export const winogradExportPrefix = (m: number, r: number): string =>
  r === 3 ? `winograd${m}` : `winograd${m}x${r}`;

/** The variants (m, r) of the SIMD module: F(2x2) and F(4x4) of 3x3 filters, F(2x2) of 5x5 and 7x7 parts. */
const VARIANTS: Array<[number, number]> = [
  [2, 3],
  [4, 3],
  [2, 5],
  [2, 7],
];

/**
 * The SIMD module's functions that both threads of our packed product run part by part
 * (`PackedProduct.run`): every Winograd variant's input and output tiles and filter transform, the 3x3
 * ones' output-gradient tiles and filter gradient transform, the channel op and affine map, the ReLU
 * gradient, the SGD step, the depthwise filter gradient, the max-pool gradient and the column sums.
 */
export const SHARED_SIMD_EXPORTS: readonly string[] = [
  ...VARIANTS.flatMap(([m, r]) =>
    ['InputTiles', 'OutputTiles', 'Filter', ...(r === 3 ? ['GradientTiles', 'FilterGradient'] : [])].map(
      (name) => `${winogradExportPrefix(m, r)}${name}`,
    ),
  ),
  'channelOp',
  'channelAffine',
  'reluGradient',
  'sgdMomentum',
  'depthwiseFilterGradient',
  'maxPoolGradientRows',
  'columnSumsRows',
];

/** The most arguments such a function takes: a tile transform's 7, then the 64 matrices of F(2x2, 7x7). */
export const MAX_SHARED_SIMD_ARGS = 7 + Math.max(...VARIANTS.map(([m, r]) => (m + r - 1) ** 2));
