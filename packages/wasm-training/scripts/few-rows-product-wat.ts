// The wat of a product of few rows (a dense layer's batch of a few samples) straight from B as stored,
// without packing it (part of the product module, scripts/matrix-product-wat.ts, so that it takes relaxed
// SIMD's fused multiply-adds and the product's helper thread).

import { add, get, i32, min, mul, multiplyAdd, set, sub } from './wat.js';

/** Rows of B per pass: a thread's share of their columns stays in L2 while each group of A's rows reads it. */
const K_BLOCK = 256;

/** A's rows that a pass takes at once, each lane its own row (in registers: 4 rows x 2 vectors). */
const GROUP = [0, 1, 2, 3];

/** How a strip of C's columns is read and written: 8 columns (two vectors), 4 (one) or 1 (lane 0 of one). */
const STRIPS = [
  { width: 8, vectors: 2, load: (at: string, v: number) => `(v128.load offset=${16 * v} ${at})` },
  { width: 4, vectors: 1, load: (at: string) => `(v128.load ${at})` },
  { width: 1, vectors: 1, load: (at: string) => `(v128.load32_zero ${at})` },
];

/** C's rows of the group by one strip of columns at `col`, over B's rows [kb, kEnd). */
function strip(fused: boolean, { width, vectors, load }: (typeof STRIPS)[number]): string {
  const vectorIndices = Array.from({ length: vectors }, (_, v) => v);
  const acc = (r: number, v: number) => `acc${r}${v}`;
  const rowAt = (r: number) => add(get(`c${r}`), `(i32.shl ${get('col')} ${i32(2)})`);
  const store = (r: number, v: number) =>
    width === 1
      ? `(v128.store32_lane 0 ${rowAt(r)} ${get(acc(r, v))})`
      : `(v128.store offset=${16 * v} ${rowAt(r)} ${get(acc(r, v))})`;
  const begin = GROUP.flatMap((r) =>
    vectorIndices.map((v) =>
      set(
        acc(r, v),
        `(if (result v128) (i32.and ${get('continuing')} (i32.gt_u ${get('live')} ${i32(r)}))
          (then ${load(rowAt(r), v)}) (else (v128.const i32x4 0 0 0 0)))`,
      ),
    ),
  );
  const step = [
    ...vectorIndices.map((v) => set(`b${v}`, load(get('bp'), v))),
    ...GROUP.flatMap((r) => [
      set('s', `(v128.load32_splat ${r === 0 ? get('ap') : add(get('ap'), get(`lane${r}`))})`),
      ...vectorIndices.map((v) => multiplyAdd(fused, acc(r, v), `b${v}`)),
    ]),
  ];
  return `
        ${begin.join('\n        ')}
        ${set('ap', add(get('a0'), `(i32.shl ${get('kb')} ${i32(2)})`))}
        ${set('bp', add(get('b'), `(i32.shl ${add(mul(get('kb'), get('n')), get('col'))} ${i32(2)})`))}
        ${set('t', sub(get('kEnd'), get('kb')))}
        (loop $steps${width}
          ${step.join('\n          ')}
          ${set('ap', add(get('ap'), i32(4)))}
          ${set('bp', add(get('bp'), get('rowBytes')))}
          ${set('t', sub(get('t'), i32(1)))}
          (br_if $steps${width} ${get('t')}))
        ${GROUP.map((r) => `(if (i32.gt_u ${get('live')} ${i32(r)}) (then ${vectorIndices.map((v) => store(r, v)).join(' ')}))`).join('\n        ')}
        ${set('col', add(get('col'), i32(width)))}`;
}

/**
 * `fewRowsProduct(a, aRowFloats, b, c, m, k, n)`: C = A B for A [m, k] (rows `aRowFloats` apart: part of
 * a wider A's columns), B [k, n] and C [m, n], B and C row-major as stored (B unpacked: a product of few
 * rows reads each of its values once, where packing it would move it twice). B's rows in blocks of K_BLOCK,
 * whole (read in order); A's rows in groups of 4 (a last group's unused lanes repeat its last row, read in
 * bounds, not stored); the columns in strips of 8, then 4, then single ones.
 */
export function fewRowsProductWat(fused: boolean): string {
  const accumulators = GROUP.flatMap((r) => [0, 1].map((v) => `(local $acc${r}${v} v128)`));
  const lanes = [1, 2, 3].map(
    (r) =>
      `${set(`lane${r}`, mul(sub(min(add(get('group'), i32(r)), sub(get('m'), i32(1))), get('group')), get('aRowBytes')))}`,
  );
  const rows = GROUP.map((r) =>
    set(`c${r}`, add(get('c'), mul(min(add(get('group'), i32(r)), sub(get('m'), i32(1))), get('rowBytes')))),
  );
  const stripLoop = (s: (typeof STRIPS)[number]) => `
      (block $strips${s.width}Done
        (loop $strips${s.width}
          (br_if $strips${s.width}Done (i32.gt_s ${add(get('col'), i32(s.width))} ${get('n')}))
          ${strip(fused, s)}
          (br $strips${s.width})))`;
  return `
  (func (export "fewRowsProduct")
    (param $a i32) (param $aRowFloats i32) (param $b i32) (param $c i32) (param $m i32) (param $k i32)
    (param $n i32)
    (local $rowBytes i32) (local $aRowBytes i32) (local $kb i32) (local $kEnd i32) (local $continuing i32)
    (local $group i32) (local $live i32) (local $a0 i32) (local $lane1 i32) (local $lane2 i32) (local $lane3 i32)
    (local $c0 i32) (local $c1 i32) (local $c2 i32) (local $c3 i32) (local $col i32) (local $ap i32) (local $bp i32)
    (local $t i32) (local $s v128) (local $b0 v128) (local $b1 v128) ${accumulators.join(' ')}
    ${set('rowBytes', `(i32.shl ${get('n')} ${i32(2)})`)}
    ${set('aRowBytes', `(i32.shl ${get('aRowFloats')} ${i32(2)})`)}
    (block $blocksDone
      (loop $blocks
        (br_if $blocksDone (i32.ge_s ${get('kb')} ${get('k')}))
        ${set('kEnd', min(add(get('kb'), i32(K_BLOCK)), get('k')))}
        ${set('continuing', `(i32.ne ${get('kb')} ${i32(0)})`)}
        ${set('group', i32(0))}
        (block $groupsDone
          (loop $groups
            (br_if $groupsDone (i32.ge_s ${get('group')} ${get('m')}))
            ${set('live', min(i32(4), sub(get('m'), get('group'))))}
            ${set('a0', add(get('a'), mul(get('group'), get('aRowBytes'))))}
            ${lanes.join('\n            ')}
            ${rows.join('\n            ')}
            ${set('col', i32(0))}
            ${STRIPS.map(stripLoop).join('')}
            ${set('group', add(get('group'), i32(4)))}
            (br $groups)))
        ${set('kb', get('kEnd'))}
        (br $blocks))))`;
}
