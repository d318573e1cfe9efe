// The wat of a convolution's filter gradient tap by tap, without a window matrix (part of the product
// module, scripts/matrix-product-wat.ts, so that it takes relaxed SIMD's fused multiply-adds and the
// product's helper thread).

import { get, multiplyAdd, set } from './wat.js';
/** Bytes of a tap record (`filterGradientTaps`): eleven i32s. */
export const TAP_RECORD_BYTES = 44;

/** The channel rows of a block (four: splat from x) by its two output vectors (eight outputs of dy). */
const BLOCK_ROWS = [0, 1, 2, 3];

/** `(if live > row) (then ...)`: the block's row `row` exists. */
const ifLive = (row: number, body: string) =>
  `(if (i32.gt_u ${get('live')} (i32.const ${row})) (then ${body}))`;
/** The address of the block's row `row` in out. */
const rowAt = (row: number) =>
  set('at', `(i32.add ${get('outBlock')} (i32.mul (i32.const ${row}) ${get('outRow')}))`);
/** x's value of the block's row `row` at the position: lane 0 at xp, the others `laneN` bytes on. */
const laneValue = (row: number) =>
  row === 0
    ? `(v128.load32_splat ${get('xp')})`
    : `(v128.load32_splat (i32.add ${get('xp')} ${get(`lane${row}`)}))`;

/**
 * `$tapFilterGradient`: one filter tap's share of a convolution's filter gradient: out[c, o] += sum over
 * images n < images, rows i < rows, cols j < cols of x[n, i, j, c] dy[n, i, j, o], where x's positions
 * are xImage / xRow / xCol bytes apart (the tap's pixels: strided, shifted into the image) and dy's
 * dyImage / dyRow / 4 outChannels; out is [channels, outChannels] with outChannels a multiple of 8. Blocks
 * of 4 channels (splat from x) by 8 outputs (two vectors of dy) keep their sums in eight registers over all
 * positions; a last block of fewer channels repeats its last channel in the unused lanes (read in bounds,
 * not stored).
 */
function tapFilterGradient(fused: boolean): string {
  const acc = (r: number, v: number) => `a${r}${v}`;
  const lane = (r: number) =>
    set(
      `lane${r}`,
      `(i32.shl (select (i32.const ${r}) (i32.sub ${get('live')} (i32.const 1)) (i32.gt_u ${get('live')} (i32.const ${r}))) (i32.const 2))`,
    );
  const load = BLOCK_ROWS.map((r) =>
    ifLive(
      r,
      `${rowAt(r)} ${set(acc(r, 0), `(v128.load ${get('at')})`)} ${set(acc(r, 1), `(v128.load offset=16 ${get('at')})`)}`,
    ),
  );
  const store = BLOCK_ROWS.map((r) =>
    ifLive(
      r,
      `${rowAt(r)} (v128.store ${get('at')} ${get(acc(r, 0))}) (v128.store offset=16 ${get('at')} ${get(acc(r, 1))})`,
    ),
  );
  const position = BLOCK_ROWS.flatMap((r) => [
    set('s', laneValue(r)),
    multiplyAdd(fused, acc(r, 0), 'd0'),
    multiplyAdd(fused, acc(r, 1), 'd1'),
  ]);
  const accumulators = BLOCK_ROWS.flatMap((r) => [acc(r, 0), acc(r, 1)]);
  return `
  (func $tapFilterGradient
    (param $x i32) (param $dy i32) (param $out i32)
    (param $images i32) (param $rows i32) (param $cols i32)
    (param $xImage i32) (param $xRow i32) (param $xCol i32) (param $dyImage i32) (param $dyRow i32)
    (param $channels i32) (param $outChannels i32)
    (local $c i32) (local $o i32) (local $live i32) (local $lane1 i32) (local $lane2 i32) (local $lane3 i32)
    (local $n i32) (local $i i32) (local $j i32) (local $dyCol i32) (local $outRow i32) (local $outBlock i32)
    (local $xImageAt i32) (local $dyImageAt i32) (local $xRowAt i32) (local $dyRowAt i32)
    (local $xp i32) (local $dp i32) (local $at i32)
    (local $d0 v128) (local $d1 v128) (local $s v128) ${accumulators.map((a) => `(local $${a} v128)`).join(' ')}
    ${set('dyCol', `(i32.shl ${get('outChannels')} (i32.const 2))`)}
    ${set('outRow', get('dyCol'))}
    (block $channelsDone
      (loop $channelBlocks
        (br_if $channelsDone (i32.ge_u ${get('c')} ${get('channels')}))
        ${set('live', `(i32.sub ${get('channels')} ${get('c')})`)}
        ${[1, 2, 3].map(lane).join('\n        ')}
        ${set('o', '(i32.const 0)')}
        (block $outputsDone
          (loop $outputBlocks
            (br_if $outputsDone (i32.ge_u ${get('o')} ${get('outChannels')}))
            ${set('outBlock', `(i32.add ${get('out')} (i32.add (i32.mul ${get('c')} ${get('outRow')}) (i32.shl ${get('o')} (i32.const 2))))`)}
            ${load.join('\n            ')}
            ${set('xImageAt', `(i32.add ${get('x')} (i32.shl ${get('c')} (i32.const 2)))`)}
            ${set('dyImageAt', `(i32.add ${get('dy')} (i32.shl ${get('o')} (i32.const 2)))`)}
            ${set('n', get('images'))}
            (block $imagesDone
              (loop $imageLoop
                (br_if $imagesDone (i32.eqz ${get('n')}))
                ${set('xRowAt', get('xImageAt'))}
                ${set('dyRowAt', get('dyImageAt'))}
                ${set('i', get('rows'))}
                (block $rowsDone
                  (loop $rowLoop
                    (br_if $rowsDone (i32.eqz ${get('i')}))
                    ${set('xp', get('xRowAt'))}
                    ${set('dp', get('dyRowAt'))}
                    ${set('j', get('cols'))}
                    (block $colsDone
                      (loop $colLoop
                        (br_if $colsDone (i32.eqz ${get('j')}))
                        ${set('d0', `(v128.load ${get('dp')})`)}
                        ${set('d1', `(v128.load offset=16 ${get('dp')})`)}
                        ${position.join('\n                        ')}
                        ${set('xp', `(i32.add ${get('xp')} ${get('xCol')})`)}
                        ${set('dp', `(i32.add ${get('dp')} ${get('dyCol')})`)}
                        ${set('j', `(i32.sub ${get('j')} (i32.const 1))`)}
                        (br $colLoop)))
                    ${set('xRowAt', `(i32.add ${get('xRowAt')} ${get('xRow')})`)}
                    ${set('dyRowAt', `(i32.add ${get('dyRowAt')} ${get('dyRow')})`)}
                    ${set('i', `(i32.sub ${get('i')} (i32.const 1))`)}
                    (br $rowLoop)))
                ${set('xImageAt', `(i32.add ${get('xImageAt')} ${get('xImage')})`)}
                ${set('dyImageAt', `(i32.add ${get('dyImageAt')} ${get('dyImage')})`)}
                ${set('n', `(i32.sub ${get('n')} (i32.const 1))`)}
                (br $imageLoop)))
            ${store.join('\n            ')}
            ${set('o', `(i32.add ${get('o')} (i32.const 8))`)}
            (br $outputBlocks)))
        ${set('c', `(i32.add ${get('c')} (i32.const 4))`)}
        (br $channelBlocks))))`;
}

/** The fields of a tap record after its out offset, in `$tapFilterGradient`'s order. */
const RECORD_COUNTS_AND_STRIDES = 8;

/**
 * `filterGradientTaps(records, first, end, x, dy, out, channels, outChannels)`: `$tapFilterGradient` for
 * the tap records first..end-1 at `records`, each eleven i32s: the byte offsets of the tap's first value in
 * x and dy and of its [channels, outChannels] block in out, then images, rows, cols, xImage, xRow, xCol,
 * dyImage, dyRow as `$tapFilterGradient` takes them.
 */
const filterGradientTaps = `
  (func (export "filterGradientTaps")
    (param $records i32) (param $first i32) (param $end i32) (param $x i32) (param $dy i32) (param $out i32)
    (param $channels i32) (param $outChannels i32)
    (local $at i32)
    ${set('at', `(i32.add ${get('records')} (i32.mul ${get('first')} (i32.const ${TAP_RECORD_BYTES})))`)}
    (block $done
      (loop $records
        (br_if $done (i32.ge_u ${get('first')} ${get('end')}))
        (call $tapFilterGradient
          (i32.add ${get('x')} (i32.load ${get('at')}))
          (i32.add ${get('dy')} (i32.load offset=4 ${get('at')}))
          (i32.add ${get('out')} (i32.load offset=8 ${get('at')}))
          ${Array.from({ length: RECORD_COUNTS_AND_STRIDES }, (_, k) => `(i32.load offset=${12 + 4 * k} ${get('at')})`).join(' ')}
          ${get('channels')} ${get('outChannels')})
        ${set('at', `(i32.add ${get('at')} (i32.const ${TAP_RECORD_BYTES}))`)}
        ${set('first', `(i32.add ${get('first')} (i32.const 1))`)}
        (br $records))))`;

/**
 * One loop of sumCopies: from `out` up to the local `limit`, `width` bytes at a time (a v128 or an f32 in
 * the local `acc`), each place's sum over the copies, in order.
 */
function sumLoop(name: string, limit: string, width: 16 | 4, acc: string): string {
  const type = width === 16 ? 'v128' : 'f32';
  const add = width === 16 ? 'f32x4.add' : 'f32.add';
  return `
    (block $${name}Done
      (loop $${name}
        (br_if $${name}Done (i32.ge_u ${get('out')} ${get(limit)}))
        ${set(acc, `(${type}.load ${get('copies')})`)}
        ${set('from', `(i32.add ${get('copies')} ${get('bytes')})`)}
        ${set('copy', '(i32.const 1)')}
        (block $${name}CopiesDone
          (loop $${name}Copies
            (br_if $${name}CopiesDone (i32.ge_u ${get('copy')} ${get('count')}))
            ${set(acc, `(${add} ${get(acc)} (${type}.load ${get('from')}))`)}
            ${set('from', `(i32.add ${get('from')} ${get('bytes')})`)}
            ${set('copy', `(i32.add ${get('copy')} (i32.const 1))`)}
            (br $${name}Copies)))
        (${type}.store ${get('out')} ${get(acc)})
        ${set('out', `(i32.add ${get('out')} (i32.const ${width}))`)}
        ${set('copies', `(i32.add ${get('copies')} (i32.const ${width}))`)}
        (br $${name})))`;
}

/**
 * `sumCopies(copies, count, size, out)`: out = copies[0] + copies[1] + ... + copies[count - 1] (`size`
 * floats each, one after another), added in that order: four floats at a time, then the last size % 4.
 */
const sumCopies = `
  (func (export "sumCopies") (param $copies i32) (param $count i32) (param $size i32) (param $out i32)
    (local $end i32) (local $vectorEnd i32) (local $from i32) (local $copy i32) (local $sum v128)
    (local $scalar f32) (local $bytes i32)
    ${set('bytes', `(i32.shl ${get('size')} (i32.const 2))`)}
    ${set('end', `(i32.add ${get('out')} ${get('bytes')})`)}
    ${set('vectorEnd', `(i32.add ${get('out')} (i32.and ${get('bytes')} (i32.const -16)))`)}
    ${sumLoop('vectors', 'vectorEnd', 16, 'sum')}
    ${sumLoop('scalars', 'end', 4, 'scalar')})`;

/** The functions above, for the product module's text. */
export function tapFilterGradientWat(fused: boolean): string {
  return `${tapFilterGradient(fused)}\n${filterGradientTaps}\n${sumCopies}`;
}
