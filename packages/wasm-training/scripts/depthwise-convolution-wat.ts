// The wat of a depthwise convolution (one filter per channel) straight from x (part of the product
// module, scripts/matrix-product-wat.ts, so that it takes relaxed SIMD's fused multiply-adds and the
// product's helper thread).

import { add, get, i32, max, min, mul, multiplyAdd, set, sub } from './wat.js';

/** Bytes of a depthwise convolution's geometry record (`depthwiseRows`): sixteen i32s. */
export const DEPTHWISE_GEOMETRY_BYTES = 64;

/** The activations that `depthwiseRows` applies after the bias. */
export const DEPTHWISE_ACTIVATIONS = { linear: 0, relu: 1, relu6: 2 } as const;

/** The geometry record's fields, in order (i32s); `bias` is a byte address, 0 for none. */
export const DEPTHWISE_FIELDS = [
  'outHeight',
  'outWidth',
  'filterHeight',
  'filterWidth',
  'channels',
  'inHeight',
  'inWidth',
  'strideH',
  'strideW',
  'padTop',
  'padLeft',
  'bias',
  'activation',
] as const;

const ZERO = '(v128.const i32x4 0 0 0 0)';
const SIX = '(v128.const f32x4 6 6 6 6)';

/**
 * One block of `vectors` channel vectors (at byte `c` of a pixel) of the output at `yp`: the sum over the
 * window's taps (filter rows [aLo, aHi) by `aStep`, cols [bLo, bHi) by `bStep`) of the input times the
 * filter, then the bias, then the activation (tfjs' ReLU and ReLU6: NaN kept). The input pixel of tap
 * (aLo, bLo) is at `xo`; each tap row further moves it by `rowDelta` bytes, each tap col by `colDelta`.
 */
function channelBlock(fused: boolean, vectors: number): string {
  const indices = Array.from({ length: vectors }, (_, v) => v);
  const acc = (v: number) => `acc${v}`;
  const tap = indices.flatMap((v) => [
    set('s', `(v128.load offset=${16 * v} ${get('xp')})`),
    set(`w${v}`, `(v128.load offset=${16 * v} ${get('wp')})`),
    multiplyAdd(fused, acc(v), `w${v}`),
  ]);
  const finish = indices.flatMap((v) => [
    `(if ${get('bias')} (then ${set(acc(v), `(f32x4.add ${get(acc(v))} (v128.load offset=${16 * v} ${add(get('bias'), get('c'))}))`)}))`,
    `(if ${get('activation')} (then ${set(acc(v), `(f32x4.pmax ${get(acc(v))} ${ZERO})`)}))`,
    `(if (i32.eq ${get('activation')} ${i32(DEPTHWISE_ACTIVATIONS.relu6)}) (then ${set(acc(v), `(f32x4.pmin ${get(acc(v))} ${SIX})`)}))`,
    `(v128.store offset=${16 * v} ${add(get('yp'), get('c'))} ${get(acc(v))})`,
  ]);
  return `
          ${indices.map((v) => set(acc(v), ZERO)).join(' ')}
          ${set('a', get('aLo'))}
          ${set('xa', add(get('xo'), get('c')))}
          (block $rowsDone${vectors}
            (loop $filterRows${vectors}
              (br_if $rowsDone${vectors} (i32.ge_s ${get('a')} ${get('aHi')}))
              ${set('b', get('bLo'))}
              ${set('xp', get('xa'))}
              (block $colsDone${vectors}
                (loop $filterCols${vectors}
                  (br_if $colsDone${vectors} (i32.ge_s ${get('b')} ${get('bHi')}))
                  ${set('wp', add(add(get('w'), mul(add(mul(get('a'), get('filterWidth')), get('b')), get('pixel'))), get('c')))}
                  ${tap.join('\n                  ')}
                  ${set('xp', add(get('xp'), get('colDelta')))}
                  ${set('b', add(get('b'), get('bStep')))}
                  (br $filterCols${vectors})))
              ${set('xa', add(get('xa'), get('rowDelta')))}
              ${set('a', add(get('a'), get('aStep')))}
              (br $filterRows${vectors})))
          ${finish.join('\n          ')}
          ${set('c', add(get('c'), i32(16 * vectors)))}`;
}

/** Each output pixel's channels in blocks of 4 vectors, then single vectors (`channelBlock`). */
function channelBlocks(fused: boolean): string {
  return [4, 1]
    .map(
      (vectors) => `
            (block $blocks${vectors}Done
              (loop $blocks${vectors}
                (br_if $blocks${vectors}Done (i32.gt_s ${add(get('c'), i32(16 * vectors))} ${get('pixel')}))
                ${channelBlock(fused, vectors)}
                (br $blocks${vectors})))`,
    )
    .join('');
}

/** The locals of both functions: the geometry record's fields, then the loops'. */
const LOCALS = `${DEPTHWISE_FIELDS.map((name) => `(local $${name} i32)`).join(' ')}
    (local $pixel i32) (local $xRow i32) (local $n i32) (local $top i32) (local $aLo i32) (local $aHi i32)
    (local $xImageRow i32) (local $yp i32) (local $j i32) (local $left i32) (local $bLo i32) (local $bHi i32)
    (local $xo i32) (local $c i32) (local $a i32) (local $b i32) (local $xa i32) (local $xp i32) (local $wp i32)
    (local $aStep i32) (local $bStep i32) (local $rowDelta i32) (local $colDelta i32)
    (local $s v128) (local $w0 v128) (local $w1 v128) (local $w2 v128) (local $w3 v128)
    (local $acc0 v128) (local $acc1 v128) (local $acc2 v128) (local $acc3 v128)`;

/**
 * The start of a depthwise function `name(geometry, x, w, y, row, endRow)`: its locals, the geometry
 * record's fields loaded into theirs and a pixel's bytes.
 */
function functionStart(name: string): string {
  const fields = DEPTHWISE_FIELDS.map((field, k) =>
    set(field, `(i32.load offset=${4 * k} ${get('geometry')})`),
  );
  return `
  (func (export "${name}")
    (param $geometry i32) (param $x i32) (param $w i32) (param $y i32) (param $row i32) (param $endRow i32)
    ${LOCALS}
    ${fields.join('\n    ')}
    ${set('pixel', `(i32.shl ${get('channels')} ${i32(2)})`)}`;
}

/**
 * `depthwiseRows(geometry, x, w, y, row, endRow)`: rows row .. endRow - 1 (of the batch's N outHeight) of
 * y [N, outHeight, outWidth, C] = the depthwise convolution of x [N, inHeight, inWidth, C] with w [fh, fw,
 * C, 1] (C a multiple of 4, dilation 1), then the bias and activation of the geometry record (the fields
 * of DEPTHWISE_FIELDS). Each block sums its window's taps inside the image (the padding costs nothing).
 */
function depthwiseRowsWat(fused: boolean): string {
  return `${functionStart('depthwiseRows')}
    ${set('xRow', mul(get('inWidth'), get('pixel')))}
    ${set('aStep', i32(1))}
    ${set('bStep', i32(1))}
    ${set('rowDelta', get('xRow'))}
    ${set('colDelta', get('pixel'))}
    ${pixelLoops(fused, {
      rows: 'outHeight',
      cols: 'outWidth',
      row: [
        set('top', sub(mul(sub(get('row'), mul(get('n'), get('outHeight'))), get('strideH')), get('padTop'))),
        set('aLo', max(i32(0), sub(i32(0), get('top')))),
        set('aHi', min(get('filterHeight'), sub(get('inHeight'), get('top')))),
        ";; the first tap row's pixels (the window's origin may lie above the image: only taps inside it are read)",
        set(
          'xImageRow',
          add(get('x'), mul(add(mul(get('n'), get('inHeight')), add(get('top'), get('aLo'))), get('xRow'))),
        ),
      ],
      col: [
        set('left', sub(mul(get('j'), get('strideW')), get('padLeft'))),
        set('bLo', max(i32(0), sub(i32(0), get('left')))),
        set('bHi', min(get('filterWidth'), sub(get('inWidth'), get('left')))),
        set('xo', add(get('xImageRow'), mul(add(get('left'), get('bLo')), get('pixel')))),
      ],
    })})`;
}

/**
 * The loops over the output's pixels of rows row .. endRow - 1 (of the batch's N `rows`; `cols` pixels a
 * row), each pixel's channel blocks summed over its taps: `row` sets the image `n`'s row up (the tap rows
 * aLo..aHi, the input row `xImageRow` of the first), `col` the pixel (the tap cols bLo..bHi, `xo`).
 */
function pixelLoops(
  fused: boolean,
  loops: { rows: string; cols: string; row: string[]; col: string[] },
): string {
  return `(block $rowsDone
      (loop $rows
        (br_if $rowsDone (i32.ge_u ${get('row')} ${get('endRow')}))
        ${set('n', `(i32.div_u ${get('row')} ${get(loops.rows)})`)}
        ${loops.row.join('\n        ')}
        ${set('yp', add(get('y'), mul(mul(get('row'), get(loops.cols)), get('pixel'))))}
        ${set('j', i32(0))}
        (block $colsDone
          (loop $cols
            (br_if $colsDone (i32.ge_u ${get('j')} ${get(loops.cols)}))
            ${loops.col.join('\n            ')}
            ${set('c', i32(0))}
            ${channelBlocks(fused)}
            ${set('yp', add(get('yp'), get('pixel')))}
            ${set('j', add(get('j'), i32(1)))}
            (br $cols)))
        ${set('row', add(get('row'), i32(1)))}
        (br $rows)))`;
}

/**
 * The first tap (of a filter axis) that reads dy for the gradient's pixel at `t` (its index plus the
 * padding): tap a reads dy's (t - a) / stride where that is a whole index in [0, outSize): a = t mod
 * stride, or t - stride (outSize - 1) where that is larger (taps past dy's far edge skipped).
 */
function firstGradientTap(t: string, stride: string, outSize: string): string {
  const lowest = max(i32(0), sub(t, mul(stride, sub(outSize, i32(1)))));
  return add(lowest, `(i32.rem_s ${sub(t, lowest)} ${stride})`);
}

/**
 * `depthwiseInputGradientRows(geometry, dy, w, dx, row, endRow)`: rows row .. endRow - 1 (of the batch's
 * N inHeight) of dx [N, inHeight, inWidth, C] for the depthwise convolution (stride, padding and sizes of
 * the geometry record; C a multiple of 4, dilation 1, no bias or activation) whose output gradient is dy
 * [N, outHeight, outWidth, C]: each pixel the sum over the filter's taps that its stride puts on a dy
 * pixel, dy there times the tap (a stride-2 layer's pixels have 1-4 of a 3x3 filter's 9, where a
 * convolution of the zero-dilated dy multiplied all 9).
 */
function depthwiseInputGradientRowsWat(fused: boolean): string {
  const dyIndex = (t: string, first: string, stride: string) =>
    `(i32.div_s ${sub(get(t), get(first))} ${get(stride)})`;
  return `${functionStart('depthwiseInputGradientRows')}
    ;; x is dy here: a tap further down or right reads dy a row up or a pixel left
    ${set('xRow', mul(get('outWidth'), get('pixel')))}
    ${set('aStep', get('strideH'))}
    ${set('bStep', get('strideW'))}
    ${set('rowDelta', sub(i32(0), get('xRow')))}
    ${set('colDelta', sub(i32(0), get('pixel')))}
    ${pixelLoops(fused, {
      rows: 'inHeight',
      cols: 'inWidth',
      row: [
        set('top', add(sub(get('row'), mul(get('n'), get('inHeight'))), get('padTop'))),
        set('aLo', firstGradientTap(get('top'), get('strideH'), get('outHeight'))),
        set('aHi', min(get('filterHeight'), add(get('top'), i32(1)))),
        set(
          'xImageRow',
          add(
            get('x'),
            mul(add(mul(get('n'), get('outHeight')), dyIndex('top', 'aLo', 'strideH')), get('xRow')),
          ),
        ),
      ],
      col: [
        set('left', add(get('j'), get('padLeft'))),
        set('bLo', firstGradientTap(get('left'), get('strideW'), get('outWidth'))),
        set('bHi', min(get('filterWidth'), add(get('left'), i32(1)))),
        set('xo', add(get('xImageRow'), mul(dyIndex('left', 'bLo', 'strideW'), get('pixel')))),
      ],
    })})`;
}

/** Both functions' text, for the product module. */
export function depthwiseConvolutionWat(fused: boolean): string {
  return `${depthwiseRowsWat(fused)}\n${depthwiseInputGradientRowsWat(fused)}`;
}
