// The wat of a forward convolution straight from x, without a window matrix (part of the product module,
// scripts/matrix-product-wat.ts, so that it takes relaxed SIMD's fused multiply-adds and the product's
// helper thread).

import { epilogueWat, get, multiplyAdd, set } from './wat.js';
/** Bytes of a convolution's geometry record (`convolutionRows`): sixteen i32s. */
export const CONVOLUTION_GEOMETRY_BYTES = 64;

const add = (a: string, b: string) => `(i32.add ${a} ${b})`;
const sub = (a: string, b: string) => `(i32.sub ${a} ${b})`;
const mul = (a: string, b: string) => `(i32.mul ${a} ${b})`;
const i32 = (value: number) => `(i32.const ${value})`;
const bytes = (floats: string) => `(i32.shl ${floats} ${i32(2)})`;
const min = (a: string, b: string) => `(select ${a} ${b} (i32.lt_s ${a} ${b}))`;
const max = (a: string, b: string) => `(select ${a} ${b} (i32.gt_s ${a} ${b}))`;

/** The positions of a group (four: splat from x) by the two vectors of a block of eight outputs. */
const GROUP = [0, 1, 2, 3];

/**
 * `$convolutionRun`: y at `count` output positions of one row, xCol bytes apart in x from `xg` (the first
 * position's window origin, which may lie outside the image) and 4 outChannels bytes apart in y from `yg`,
 * in groups of 4: for each block of 8 outputs, the sum over filter rows a in [aLo, aHi) and cols b in
 * [bLo, bHi) (the taps inside the image, the same for every position of the run) of the window's values
 * times the filter packed by packPanels (`packed`: panels of 8 outputs, `panelBytes` each, their k steps
 * in W's order a, b, c), in eight registers. A last group's unused lanes repeat its last position (read
 * in bounds, not stored). The `epilogue` (BIAS_EPILOGUE, RELU_EPILOGUE or 0) with the outputs' bias at `bias`
 * goes on the finished sums as they are stored.
 */
function convolutionRun(fused: boolean): string {
  const acc = (r: number, v: number) => `a${r}${v}`;
  const lastLane = sub(get('live'), i32(1));
  const lane = (r: number) => set(`lane${r}`, mul(min(i32(r), lastLane), get('xCol')));
  const laneAt = (r: number) => (r === 0 ? get('xp') : add(get('xp'), get(`lane${r}`)));
  const step = [
    set('w0', `(v128.load ${get('wp')})`),
    set('w1', `(v128.load offset=16 ${get('wp')})`),
    ...GROUP.flatMap((r) => [
      set('s', `(v128.load32_splat ${laneAt(r)})`),
      multiplyAdd(fused, acc(r, 0), 'w0'),
      multiplyAdd(fused, acc(r, 1), 'w1'),
    ]),
  ];
  const zero = GROUP.flatMap((r) => [0, 1].map((v) => set(acc(r, v), '(v128.const i32x4 0 0 0 0)')));
  const store = GROUP.map(
    (r) =>
      `(if (i32.gt_u ${get('live')} ${i32(r)}) (then
          ${set('yp', add(get('yb'), mul(i32(r), get('yCol'))))}
          (v128.store ${get('yp')} ${get(acc(r, 0))}) (v128.store offset=16 ${get('yp')} ${get(acc(r, 1))})))`,
  );
  const accumulators = GROUP.flatMap((r) => [acc(r, 0), acc(r, 1)]);
  return `
  (func $convolutionRun
    (param $xg i32) (param $yg i32) (param $count i32) (param $aLo i32) (param $aHi i32) (param $bLo i32)
    (param $bHi i32) (param $xRow i32) (param $xCol i32) (param $channels i32) (param $outChannels i32)
    (param $filterWidth i32) (param $packed i32) (param $panelBytes i32) (param $bias i32) (param $epilogue i32)
    (local $live i32) (local $lane1 i32) (local $lane2 i32) (local $lane3 i32) (local $o i32) (local $a i32) (local $steps i32)
    (local $t i32) (local $xp i32) (local $wp i32) (local $panel i32) (local $yb i32) (local $yp i32) (local $yCol i32) (local $blockBias i32)
    (local $w0 v128) (local $w1 v128) (local $s v128) ${accumulators.map((a) => `(local $${a} v128)`).join(' ')}
    ${set('yCol', bytes(get('outChannels')))}
    ${set('steps', mul(sub(get('bHi'), get('bLo')), get('channels')))}
    (block $groupsDone
      (loop $groups
    (br_if $groupsDone (i32.le_s ${get('count')} ${i32(0)}))
    ${set('live', min(i32(4), get('count')))}
    ${[1, 2, 3].map(lane).join(' ')}
    ${set('panel', get('packed'))}
    ${set('yb', get('yg'))}
    ${set('o', i32(0))}
    (block $blocksDone
      (loop $blocks
        (br_if $blocksDone (i32.ge_u ${get('o')} ${get('outChannels')}))
        ${zero.join(' ')}
        ${set('a', get('aLo'))}
        (block $filterRowsDone
          ;; a border position whose window has no col inside the image: zero
          (br_if $filterRowsDone (i32.le_s ${get('steps')} ${i32(0)}))
          (loop $filterRows
            (br_if $filterRowsDone (i32.ge_s ${get('a')} ${get('aHi')}))
            ${set('xp', add(get('xg'), add(mul(get('a'), get('xRow')), bytes(mul(get('bLo'), get('channels'))))))}
            ${set('wp', add(get('panel'), `(i32.shl ${mul(add(mul(get('a'), get('filterWidth')), get('bLo')), get('channels'))} ${i32(5)})`))}
            ${set('t', get('steps'))}
            (loop $steps
              ${step.join('\n              ')}
              ${set('xp', add(get('xp'), i32(4)))}
              ${set('wp', add(get('wp'), i32(32)))}
              ${set('t', sub(get('t'), i32(1)))}
              (br_if $steps ${get('t')}))
            ${set('a', add(get('a'), i32(1)))}
            (br $filterRows)))
        ${set('blockBias', add(get('bias'), bytes(get('o'))))}
        ${epilogueWat(accumulators, 'blockBias', ['w0', 'w1'], 'epilogue')}
        ${store.join('\n        ')}
        ${set('panel', add(get('panel'), get('panelBytes')))}
        ${set('yb', add(get('yb'), i32(32)))}
        ${set('o', add(get('o'), i32(8)))}
        (br $blocks)))
    ${set('xg', add(get('xg'), `(i32.shl ${get('xCol')} ${i32(2)})`))}
    ${set('yg', add(get('yg'), `(i32.shl ${get('yCol')} ${i32(2)})`))}
    ${set('count', sub(get('count'), i32(4)))}
    (br $groups))))`;
}

/** The geometry record's fields, in order (i32s). */
const FIELDS = [
  'outHeight',
  'outWidth',
  'filterHeight',
  'filterWidth',
  'channels',
  'outChannels',
  'inHeight',
  'inWidth',
  'strideH',
  'strideW',
  'padTop',
  'padLeft',
  'interiorStart',
  'interiorEnd',
  'bias',
  'epilogue',
] as const;

/**
 * `convolutionRows(geometry, x, packed, y, firstRow, endRow)`: rows firstRow .. endRow - 1 (of the batch's
 * N outHeight) of y = conv(x, W) with x [N, inHeight, inWidth, channels] and y [N, outHeight, outWidth,
 * outChannels] (outChannels a multiple of 8), W packed by packPanels as [fh fw C, O], then the epilogue
 * (as productRows takes it); `geometry` holds the fields above (the interior: the output cols whose windows
 * lie inside the image's cols; the outputs' bias, the epilogue). A row's interior positions go as one run;
 * those at the borders one by one, each with the taps inside the image (the padding costs nothing).
 */
const convolutionRows = `
  (func (export "convolutionRows")
    (param $geometry i32) (param $x i32) (param $packed i32) (param $y i32) (param $row i32) (param $endRow i32)
    ${FIELDS.map((name) => `(local $${name} i32)`).join(' ')}
    (local $xRow i32) (local $xCol i32) (local $yRow i32) (local $panelBytes i32) (local $n i32) (local $i i32)
    (local $top i32) (local $left i32) (local $aLo i32) (local $aHi i32) (local $j i32) (local $count i32)
    (local $xRowAt i32) (local $yRowAt i32)
    ${FIELDS.map((name, k) => set(name, `(i32.load offset=${4 * k} ${get('geometry')})`)).join('\n    ')}
    ${set('xRow', bytes(mul(get('inWidth'), get('channels'))))}
    ${set('xCol', bytes(mul(get('strideW'), get('channels'))))}
    ${set('yRow', bytes(mul(get('outWidth'), get('outChannels'))))}
    ${set('panelBytes', `(i32.shl ${mul(mul(get('filterHeight'), get('filterWidth')), get('channels'))} ${i32(5)})`)}
    (block $rowsDone
      (loop $rows
        (br_if $rowsDone (i32.ge_u ${get('row')} ${get('endRow')}))
        ${set('n', `(i32.div_u ${get('row')} ${get('outHeight')})`)}
        ${set('i', sub(get('row'), mul(get('n'), get('outHeight'))))}
        ${set('top', sub(mul(get('i'), get('strideH')), get('padTop')))}
        ${set('aLo', max(i32(0), sub(i32(0), get('top'))))}
        ${set('aHi', min(get('filterHeight'), sub(get('inHeight'), get('top'))))}
        ${set('xRowAt', add(get('x'), add(mul(mul(get('n'), get('inHeight')), get('xRow')), mul(get('top'), get('xRow')))))}
        ${set('yRowAt', add(get('y'), mul(get('row'), get('yRow'))))}
        ${set('j', i32(0))}
        (block $colsDone
          (loop $cols
            (br_if $colsDone (i32.ge_u ${get('j')} ${get('outWidth')}))
            ${set('left', sub(mul(get('j'), get('strideW')), get('padLeft')))}
            (if (i32.and (i32.eq ${get('j')} ${get('interiorStart')}) (i32.lt_u ${get('j')} ${get('interiorEnd')}))
              (then
                ${set('count', sub(get('interiorEnd'), get('j')))}
                (call $convolutionRun
                  ${add(get('xRowAt'), bytes(mul(get('left'), get('channels'))))}
                  ${add(get('yRowAt'), bytes(mul(get('j'), get('outChannels'))))}
                  ${get('count')} ${get('aLo')} ${get('aHi')} ${i32(0)} ${get('filterWidth')}
                  ${get('xRow')} ${get('xCol')} ${get('channels')} ${get('outChannels')} ${get('filterWidth')}
                  ${get('packed')} ${get('panelBytes')} ${get('bias')} ${get('epilogue')}))
              (else
                ${set('count', i32(1))}
                (call $convolutionRun
                  ${add(get('xRowAt'), bytes(mul(get('left'), get('channels'))))}
                  ${add(get('yRowAt'), bytes(mul(get('j'), get('outChannels'))))}
                  ${i32(1)} ${get('aLo')} ${get('aHi')}
                  ${max(i32(0), sub(i32(0), get('left')))}
                  ${min(get('filterWidth'), sub(get('inWidth'), get('left')))}
                  ${get('xRow')} ${get('xCol')} ${get('channels')} ${get('outChannels')} ${get('filterWidth')}
                  ${get('packed')} ${get('panelBytes')} ${get('bias')} ${get('epilogue')})))
            ${set('j', add(get('j'), max(get('count'), i32(1))))}
            (br $cols)))
        ${set('row', add(get('row'), i32(1)))}
        (br $rows))))`;

/** The functions above, for the product module's text. */
export function directConvolutionWat(fused: boolean): string {
  return `${convolutionRun(fused)}\n${convolutionRows}`;
}
