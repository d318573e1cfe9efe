// The wat of a forward convolution straight from x, without a window matrix (part of the product module,
// scripts/matrix-product-wat.ts, so that it takes relaxed SIMD's fused multiply-adds and the product's
// helper thread).

import { add, bytes, epilogueWat, get, i32, max, min, mul, multiplyAdd, set, sub } from './wat.js';
/** Bytes of a convolution's geometry record (`convolutionRows`): sixteen i32s. */
export const CONVOLUTION_GEOMETRY_BYTES = 64;

/** The positions of a group (four: splat from x) by the two vectors of a block of eight outputs. */
const GROUP = [0, 1, 2, 3];

/**
 * `$convolutionClass`: y at the output positions of rows [r0, r1) (of the batch's N outHeight) by cols
 * [j0, j1), in row-major order, whose windows all have the same taps inside the image (filter rows a in
 * [aLo, aHi), cols b in [bLo, bHi)): in groups of 4 positions, which may span rows and images (each lane
 * its own window origin in x and place in y), for each block of 8 outputs the sum over those taps of the
 * window's values times the filter packed by packPanels (`packed`: panels of 8 outputs, `panelBytes` each,
 * their k steps in W's order a, b, c), in eight registers. A last group's unused lanes repeat its last
 * position (read in bounds, not stored). The `epilogue` (BIAS_EPILOGUE, RELU_EPILOGUE, RELU6_EPILOGUE or 0) with the
 * outputs' bias at `bias` goes on the finished sums as they are stored.
 */
function convolutionClass(fused: boolean): string {
  const acc = (r: number, v: number) => `a${r}${v}`;
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
  // The position (er, ej) of the next lane; exRow: the address of its row's window origin row in x.
  const rowOrigin = `
      ${set('n', `(i32.div_u ${get('er')} ${get('outHeight')})`)}
      ${set('exRow', add(get('x'), mul(sub(add(mul(get('n'), get('inHeight')), mul(sub(get('er'), mul(get('n'), get('outHeight'))), get('strideH'))), get('padTop')), get('xRow'))))}`;
  const take = (r: number) => `
      ${set(`x${r}`, add(get('exRow'), bytes(mul(sub(mul(get('ej'), get('strideW')), get('padLeft')), get('channels')))))}
      ${set(`y${r}`, add(get('y'), bytes(mul(add(mul(get('er'), get('outWidth')), get('ej')), get('outChannels')))))}
      ${set('ej', add(get('ej'), i32(1)))}
      (if (i32.eq ${get('ej')} ${get('j1')}) (then
        ${set('ej', get('j0'))}
        ${set('er', add(get('er'), i32(1)))}
        ${rowOrigin}))`;
  const lane = (r: number) => `
    (if (i32.gt_u ${get('live')} ${i32(r)})
      (then ${take(r)})
      (else ${set(`x${r}`, get(`x${r - 1}`))} ${set(`y${r}`, get(`y${r - 1}`))}))
    ${set(`lane${r}`, sub(get(`x${r}`), get('x0')))}`;
  const zero = GROUP.flatMap((r) => [0, 1].map((v) => set(acc(r, v), '(v128.const i32x4 0 0 0 0)')));
  const store = GROUP.map(
    (r) =>
      `(if (i32.gt_u ${get('live')} ${i32(r)}) (then
          ${set('yp', add(get(`y${r}`), get('yo')))}
          (v128.store ${get('yp')} ${get(acc(r, 0))}) (v128.store offset=16 ${get('yp')} ${get(acc(r, 1))})))`,
  );
  const accumulators = GROUP.flatMap((r) => [acc(r, 0), acc(r, 1)]);
  const params = [
    ...['x', 'y', 'r0', 'r1', 'j0', 'j1', 'aLo', 'aHi', 'bLo', 'bHi'],
    ...['outHeight', 'outWidth', 'inHeight', 'strideH', 'strideW', 'padTop', 'padLeft', 'xRow'],
    ...['channels', 'outChannels', 'filterWidth', 'packed', 'panelBytes', 'bias', 'epilogue'],
  ];
  const locals = [
    ...['remaining', 'live', 'er', 'ej', 'n', 'exRow', 'x0', 'x1', 'x2', 'x3', 'y0', 'y1', 'y2', 'y3'],
    ...['lane1', 'lane2', 'lane3', 'o', 'yo', 'a', 'steps', 't', 'xp', 'wp', 'panel', 'yp', 'blockBias'],
  ];
  return `
  (func $convolutionClass
    ${params.map((name) => `(param $${name} i32)`).join(' ')}
    ${locals.map((name) => `(local $${name} i32)`).join(' ')}
    (local $w0 v128) (local $w1 v128) (local $s v128) ${accumulators.map((a) => `(local $${a} v128)`).join(' ')}
    ${set('steps', mul(sub(get('bHi'), get('bLo')), get('channels')))}
    ${set('remaining', mul(sub(get('r1'), get('r0')), sub(get('j1'), get('j0'))))}
    ${set('er', get('r0'))}
    ${set('ej', get('j0'))}
    ${rowOrigin}
    (block $groupsDone
      (loop $groups
    (br_if $groupsDone (i32.le_s ${get('remaining')} ${i32(0)}))
    ${set('live', min(i32(4), get('remaining')))}
    ${take(0)}
    ${[1, 2, 3].map(lane).join(' ')}
    ${set('panel', get('packed'))}
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
            ${set('xp', add(get('x0'), add(mul(get('a'), get('xRow')), bytes(mul(get('bLo'), get('channels'))))))}
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
        ${set('yo', bytes(get('o')))}
        ${set('blockBias', add(get('bias'), get('yo')))}
        ${epilogueWat(accumulators, 'blockBias', ['w0', 'w1'], 'epilogue')}
        ${store.join('\n        ')}
        ${set('panel', add(get('panel'), get('panelBytes')))}
        ${set('o', add(get('o'), i32(8)))}
        (br $blocks)))
    ${set('remaining', sub(get('remaining'), i32(4)))}
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
 * lie inside the image's cols; the outputs' bias, the epilogue). Consecutive rows whose windows have the
 * same filter rows inside the image go together, in classes of the same taps: their interior cols as one
 * class, each border col as another (the padding costs nothing, and a border position shares its groups
 * with those of the rows above and below it).
 */
function convolutionRows(): string {
  /** Sets `${prefix}Lo` and `${prefix}Hi`: the filter rows inside the image of the windows of row `row`. */
  const filterRows = (row: string, prefix: string) => `
        ${set('n', `(i32.div_u ${row} ${get('outHeight')})`)}
        ${set('top', sub(mul(sub(row, mul(get('n'), get('outHeight'))), get('strideH')), get('padTop')))}
        ${set(`${prefix}Lo`, max(i32(0), sub(i32(0), get('top'))))}
        ${set(`${prefix}Hi`, min(get('filterHeight'), sub(get('inHeight'), get('top'))))}`;
  const callClass = (bLo: string, bHi: string) => `
                (call $convolutionClass
                  ${get('x')} ${get('y')} ${get('row')} ${get('rowsEnd')} ${get('j')} ${get('colsEnd')}
                  ${get('aLo')} ${get('aHi')} ${bLo} ${bHi}
                  ${get('outHeight')} ${get('outWidth')} ${get('inHeight')} ${get('strideH')} ${get('strideW')}
                  ${get('padTop')} ${get('padLeft')} ${get('xRow')} ${get('channels')} ${get('outChannels')}
                  ${get('filterWidth')} ${get('packed')} ${get('panelBytes')} ${get('bias')} ${get('epilogue')})`;
  return `
  (func (export "convolutionRows")
    (param $geometry i32) (param $x i32) (param $packed i32) (param $y i32) (param $row i32) (param $endRow i32)
    ${FIELDS.map((name) => `(local $${name} i32)`).join(' ')}
    (local $xRow i32) (local $panelBytes i32) (local $n i32) (local $top i32) (local $aLo i32) (local $aHi i32)
    (local $nextLo i32) (local $nextHi i32) (local $rowsEnd i32) (local $j i32) (local $colsEnd i32) (local $left i32)
    ${FIELDS.map((name, k) => set(name, `(i32.load offset=${4 * k} ${get('geometry')})`)).join('\n    ')}
    ${set('xRow', bytes(mul(get('inWidth'), get('channels'))))}
    ${set('panelBytes', `(i32.shl ${mul(mul(get('filterHeight'), get('filterWidth')), get('channels'))} ${i32(5)})`)}
    (block $rowsDone
      (loop $rows
        (br_if $rowsDone (i32.ge_u ${get('row')} ${get('endRow')}))
        ${filterRows(get('row'), 'a')}
        ${set('rowsEnd', add(get('row'), i32(1)))}
        (block $runDone
          (loop $run
            (br_if $runDone (i32.ge_u ${get('rowsEnd')} ${get('endRow')}))
            ${filterRows(get('rowsEnd'), 'next')}
            (br_if $runDone (i32.or (i32.ne ${get('nextLo')} ${get('aLo')}) (i32.ne ${get('nextHi')} ${get('aHi')})))
            ${set('rowsEnd', add(get('rowsEnd'), i32(1)))}
            (br $run)))
        ${set('j', i32(0))}
        (block $colsDone
          (loop $cols
            (br_if $colsDone (i32.ge_u ${get('j')} ${get('outWidth')}))
            (if (i32.and (i32.eq ${get('j')} ${get('interiorStart')}) (i32.lt_u ${get('j')} ${get('interiorEnd')}))
              (then
                ${set('colsEnd', get('interiorEnd'))}
                ${callClass(i32(0), get('filterWidth'))})
              (else
                ${set('colsEnd', add(get('j'), i32(1)))}
                ${set('left', sub(mul(get('j'), get('strideW')), get('padLeft')))}
                ${callClass(max(i32(0), sub(i32(0), get('left'))), min(get('filterWidth'), sub(get('inWidth'), get('left'))))}))
            ${set('j', get('colsEnd'))}
            (br $cols)))
        ${set('row', get('rowsEnd'))}
        (br $rows))))`;
}

/** The functions above, for the product module's text. */
export function directConvolutionWat(fused: boolean): string {
  return `${convolutionClass(fused)}\n${convolutionRows()}`;
}
