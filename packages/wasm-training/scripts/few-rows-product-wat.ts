// The wat of a product of few rows (a dense layer's batch of a few samples) straight from B as stored,
// without packing it (part of the product module, scripts/matrix-product-wat.ts, so that it takes relaxed
// SIMD's fused multiply-adds and the product's helper thread).

import { add, get, i32, min, mul, set, sub } from './wat.js';

/** Pairs of B's rows per block: the block (2 x 128 rows of its columns) stays in L2 while each group of A's rows reads it. */
const PAIR_BLOCK = 128;

/** Columns per block: a group's 4 rows of C over them (8 KB) stay in L1 while B's rows pass. */
const COLUMN_BLOCK = 512;

/** The most of A's rows in a group: one pass over B's rows adds to all of them. */
const GROUP_ROWS = 4;

/** `scale * factor + sum` on v128 expressions: one fused multiply-add where `fused`, else a multiply and an add. */
const multiplyAdd = (fused: boolean, scale: string, factor: string, sum: string) =>
  fused
    ? `(f32x4.relaxed_madd ${scale} ${factor} ${sum})`
    : `(f32x4.add ${sum} (f32x4.mul ${scale} ${factor}))`;

/**
 * C's `rows` rows (at $c0..) over the byte columns [$j, $to) += B's `steps` (1 or 2) rows at $bt0 (and $bt1)
 * scaled by A's values in $s{row}{step}, step after step, in runs of `vectors` vectors (2: 8 columns, 1: 4)
 * or, with `vectors` 0, column by column (lane 0 of a vector). Each run loads C's vectors before it stores
 * any, so that no load follows a store to the same address modulo 4 KB (C's rows may lie 4 KB apart),
 * which CPUs may take for a dependence and make the load wait.
 */
function columnRun(fused: boolean, rows: number, steps: number, vectors: number): string {
  const width = vectors === 0 ? 1 : 4 * vectors;
  const offsets = vectors === 0 ? [0] : Array.from({ length: vectors }, (_, v) => 16 * v);
  const load = (at: string, offset: number) =>
    vectors === 0 ? `(v128.load32_zero ${at})` : `(v128.load offset=${offset} ${at})`;
  const store = (at: string, offset: number, value: string) =>
    vectors === 0 ? `(v128.store32_lane 0 ${at} ${value})` : `(v128.store offset=${offset} ${at} ${value})`;
  const cAt = (r: number) => add(get(`c${r}`), get('j'));
  const body = offsets.flatMap((offset) => [
    ...Array.from({ length: steps }, (_, t) => set(`b${t}`, load(add(get(`bt${t}`), get('j')), offset))),
    ...Array.from({ length: rows }, (_, r) => set(`sum${r}`, load(cAt(r), offset))),
    ...Array.from({ length: rows }, (_, r) => {
      let sum = get(`sum${r}`);
      for (let t = 0; t < steps; t++) sum = multiplyAdd(fused, get(`s${r}${t}`), get(`b${t}`), sum);
      return store(cAt(r), offset, sum);
    }),
  ]);
  const label = `run${steps}${width}`;
  return `
        (block $${label}Done
          (loop $${label}
            (br_if $${label}Done (i32.gt_s ${add(get('j'), i32(4 * width))} ${get('to')}))
            ${body.join('\n            ')}
            ${set('j', add(get('j'), i32(4 * width)))}
            (br $${label})))`;
}

/**
 * `$addRows{rows}`: C's `rows` rows (row r at $c{r}, A's at $a + r $aRowBytes) over the byte columns
 * [$from, $to) += B's rows times A's values: `$pairs` pairs of rows, row p with row p + $apart (B's rows
 * from $b, $rowBytes apart; A's columns likewise from $a), the pair's two terms added to each of C's
 * vectors at once (C loaded and stored once per two of B's rows); then, with $single (the last
 * block, its pairs ending at row $apart), row 2 $apart alone. The two rows of a pair lie in different pages, each read in order: the hardware prefetches
 * such streams, where two rows next to each other (one page, read in alternation) came from memory at
 * 7-9 GB/s on one thread against 18 apart.
 */
function addRows(fused: boolean, rows: number): string {
  const rowIndices = Array.from({ length: rows }, (_, r) => r);
  const pass = (steps: number) => `
        ${rowIndices
          .flatMap((r) =>
            Array.from({ length: steps }, (_, t) => {
              const row = r === 0 ? get('ap') : add(get('ap'), mul(get('aRowBytes'), i32(r)));
              return set(`s${r}${t}`, `(v128.load32_splat ${t === 0 ? row : add(row, get('aApart'))})`);
            }),
          )
          .join('\n        ')}
        ${set('bt1', add(get('bt0'), get('bApart')))}
        ${set('j', get('from'))}
        ${columnRun(fused, rows, steps, 2)}
        ${columnRun(fused, rows, steps, 1)}
        ${columnRun(fused, rows, steps, 0)}`;
  const splats = rowIndices.flatMap((r) => [0, 1].map((t) => `(local $s${r}${t} v128)`));
  return `
  (func $addRows${rows}
    (param $a i32) (param $aRowBytes i32) (param $b i32) (param $rowBytes i32) (param $pairs i32) (param $apart i32)
    (param $single i32) (param $c0 i32) (param $c1 i32) (param $c2 i32) (param $c3 i32) (param $from i32) (param $to i32)
    (local $ap i32) (local $bt0 i32) (local $bt1 i32) (local $j i32) (local $aApart i32) (local $bApart i32)
    (local $p i32) (local $b0 v128) (local $b1 v128) ${splats.join(' ')}
    ${rowIndices.map((r) => `(local $sum${r} v128)`).join(' ')}
    ${set('aApart', `(i32.shl ${get('apart')} ${i32(2)})`)}
    ${set('bApart', mul(get('apart'), get('rowBytes')))}
    ${set('ap', get('a'))}
    ${set('bt0', get('b'))}
    (block $pairsDone
      (loop $pairsLoop
        (br_if $pairsDone (i32.ge_u ${get('p')} ${get('pairs')}))
        ${pass(2)}
        ${set('ap', add(get('ap'), i32(4)))}
        ${set('bt0', add(get('bt0'), get('rowBytes')))}
        ${set('p', add(get('p'), i32(1)))}
        (br $pairsLoop)))
    ;; the pairs end at row $apart (where $single is set), so the row 2 $apart lies $apart on
    (if ${get('single')}
      (then
        ${set('ap', add(get('ap'), get('aApart')))}
        ${set('bt0', add(get('bt0'), get('bApart')))}
        ${pass(1)})))`;
}

/**
 * `fewRowsProduct(a, aRowFloats, b, c, m, k, n)`: C = A B for A [m, k] (rows `aRowFloats` apart: part of
 * a wider A's columns), B [k, n] and C [m, n], B and C row-major as stored (B unpacked: a product of few
 * rows reads each of its values once, where packing it would move it twice). B's rows in pairs, row p
 * with row p + floor(k / 2) (then row k - 1 alone where k is odd), in blocks of PAIR_BLOCK pairs; its
 * columns in blocks of COLUMN_BLOCK; A's rows in groups of up to 4, each group's C rows zeroed at the first
 * block and then read and written along B's rows. Each of C's values is summed in that order of k: the
 * same on every run.
 */
export function fewRowsProductWat(fused: boolean): string {
  const groupSizes = Array.from({ length: GROUP_ROWS }, (_, r) => r + 1);
  const rowStarts = Array.from({ length: GROUP_ROWS }, (_, r) =>
    set(`c${r}`, add(get('c'), mul(min(add(get('group'), i32(r)), sub(get('m'), i32(1))), get('rowBytes')))),
  );
  const zeroRows = Array.from(
    { length: GROUP_ROWS },
    (_, r) =>
      `(if (i32.gt_s ${get('live')} ${i32(r)})
                      (then (memory.fill ${add(get(`c${r}`), get('from'))} ${i32(0)} ${sub(get('to'), get('from'))})))`,
  );
  const call = (rows: number) =>
    `(call $addRows${rows} ${get('ap')} ${get('aRowBytes')} ${get('bp')} ${get('rowBytes')} ${sub(get('pEnd'), get('p0'))}
                  ${get('half')} ${get('single')} ${[0, 1, 2, 3].map((r) => get(`c${r}`)).join(' ')} ${get('from')} ${get('to')})`;
  const byGroupSize = groupSizes
    .map((rows) => `(if (i32.eq ${get('live')} ${i32(rows)}) (then ${call(rows)}))`)
    .join('\n                ');
  return `
  (func (export "fewRowsProduct")
    (param $a i32) (param $aRowFloats i32) (param $b i32) (param $c i32) (param $m i32) (param $k i32)
    (param $n i32)
    (local $rowBytes i32) (local $aRowBytes i32) (local $half i32) (local $from i32) (local $to i32)
    (local $p0 i32) (local $pEnd i32) (local $single i32) (local $group i32) (local $live i32) (local $ap i32)
    (local $bp i32) (local $c0 i32) (local $c1 i32) (local $c2 i32) (local $c3 i32)
    ${set('rowBytes', `(i32.shl ${get('n')} ${i32(2)})`)}
    ${set('aRowBytes', `(i32.shl ${get('aRowFloats')} ${i32(2)})`)}
    ${set('half', `(i32.shr_u ${get('k')} ${i32(1)})`)}
    (block $columnsDone
      (loop $columns
        (br_if $columnsDone (i32.ge_s ${get('from')} ${get('rowBytes')}))
        ${set('to', min(add(get('from'), i32(4 * COLUMN_BLOCK)), get('rowBytes')))}
        ${set('p0', i32(0))}
        (loop $blocks
          ${set('pEnd', min(add(get('p0'), i32(PAIR_BLOCK)), get('half')))}
          ;; the odd row with the last block
          ${set('single', `(i32.and (i32.eq ${get('pEnd')} ${get('half')}) (i32.and ${get('k')} ${i32(1)}))`)}
          ${set('bp', add(get('b'), mul(get('p0'), get('rowBytes'))))}
          ${set('group', i32(0))}
          (block $groupsDone
            (loop $groups
              (br_if $groupsDone (i32.ge_s ${get('group')} ${get('m')}))
              ${set('live', min(i32(GROUP_ROWS), sub(get('m'), get('group'))))}
              ${set('ap', add(get('a'), add(mul(get('group'), get('aRowBytes')), `(i32.shl ${get('p0')} ${i32(2)})`)))}
              ${rowStarts.join('\n              ')}
              (if (i32.eqz ${get('p0')})
                (then
                  ${zeroRows.join('\n                  ')}))
              ${byGroupSize}
              ${set('group', add(get('group'), i32(GROUP_ROWS)))}
              (br $groups)))
          ${set('p0', get('pEnd'))}
          (br_if $blocks (i32.lt_s ${get('p0')} ${get('half')})))
        ${set('from', get('to'))}
        (br $columns))))
${groupSizes.map((rows) => addRows(fused, rows)).join('')}`;
}
