// The wat of the two products of a dense layer's gradient at a small batch (part of the product module,
// scripts/matrix-product-wat.ts, so that they take relaxed SIMD's fused multiply-adds and the product's
// helper thread): the weight gradient x^T dy, a sum of a few outer products, and the input gradient dy W^T,
// few rows times a transposed matrix. Both stream their one large matrix (C written, B read) once, in order,
// where our packed product would move it again to pack it and pass over C's tiles for a few steps each.

import { add, get, i32, min, mul, multiplyAdd, set, sub } from './wat.js';

/** How a strip of C's columns is read and written: 8 columns (two vectors), 4 (one) or 1 (lane 0 of one). */
const STRIPS = [
  { width: 8, vectors: [0, 1], load: (at: string, v: number) => `(v128.load offset=${16 * v} ${at})` },
  { width: 4, vectors: [0], load: (at: string) => `(v128.load ${at})` },
  { width: 1, vectors: [0], load: (at: string) => `(v128.load32_zero ${at})` },
];

/** The inner rows that outerProductRows adds at once: their A values splatted in registers, C's strip read once. */
const GROUP_ROWS = 4;

/**
 * C's row (at `cp`, ending at `cEnd`) plus `rows` outer products from inner row `r` on (A's values at `ap`,
 * B's rows at `bp`), strip by strip: for each strip of columns, C's values (zero in the first group) plus
 * A[r + g, i] B[r + g, strip] for g < rows, in order.
 */
function outerGroup(fused: boolean, rows: number): string {
  const groupRows = Array.from({ length: rows }, (_, g) => g);
  // Row g of the group, its row `stride` bytes after the one before.
  const rowOf = (first: string, stride: string, g: number) =>
    g === 0 ? get(first) : add(get(first), mul(get(stride), i32(g)));
  const setup = [
    ...groupRows.map((g) => set(`s${g}`, `(v128.load32_splat ${rowOf('ap', 'aRowBytes', g)})`)),
    ...groupRows.map((g) => set(`q${g}`, rowOf('bp', 'rowBytes', g))),
    set('cq', get('cp')),
  ];
  const stripLoop = ({ width, vectors, load }: (typeof STRIPS)[number]) => {
    const store = (v: number) =>
      width === 1
        ? `(v128.store32_lane 0 ${get('cq')} ${get(`acc${v}`)})`
        : `(v128.store offset=${16 * v} ${get('cq')} ${get(`acc${v}`)})`;
    const body = [
      ...vectors.map((v) =>
        set(
          `acc${v}`,
          `(if (result v128) ${get('first')} (then (v128.const i32x4 0 0 0 0)) (else ${load(get('cq'), v)}))`,
        ),
      ),
      ...groupRows.flatMap((g) =>
        vectors.flatMap((v) => [
          set(`b${v}`, load(get(`q${g}`), v)),
          multiplyAdd(fused, `acc${v}`, `b${v}`, `s${g}`),
        ]),
      ),
      ...vectors.map(store),
      ...[...groupRows.map((g) => `q${g}`), 'cq'].map((name) => set(name, add(get(name), i32(4 * width)))),
    ];
    const label = `$strips${rows}x${width}`;
    return `
          (block ${label}Done
            (loop ${label}
              (br_if ${label}Done (i32.gt_u ${add(get('cq'), i32(4 * width))} ${get('cEnd')}))
              ${body.join('\n              ')}
              (br ${label})))`;
  };
  return `
          ${setup.join('\n          ')}
          ${STRIPS.map(stripLoop).join('')}`;
}

/**
 * `outerProductRows(a, aRowBytes, b, c, inner, n, start, end)`: rows start..end of C = A^T B, for A
 * [inner, m] (rows `aRowBytes` apart: column i of A is row i of C), B [inner, n] and C [m, n] row-major:
 * C[i, :] = sum over r of A[r, i] B[r, :], added in the order of r. Inner rows in groups of GROUP_ROWS
 * (a last group of 1-3), C's row in strips of 8 columns, then 4, then single ones.
 */
function outerProductRowsWat(fused: boolean): string {
  // The largest group that the inner rows left fill: 4, else the last 3, 2 or 1.
  const dispatch = [GROUP_ROWS, 3, 2, 1].reduceRight(
    (otherwise, rows) => `(if (i32.ge_s ${get('left')} ${i32(rows)})
            (then ${outerGroup(fused, rows)}
              ${set('r', add(get('r'), i32(rows)))})${
                otherwise === ''
                  ? ''
                  : `
            (else ${otherwise})`
              })`,
    '',
  );
  return `
  (func (export "outerProductRows")
    (param $a i32) (param $aRowBytes i32) (param $b i32) (param $c i32) (param $inner i32) (param $n i32)
    (param $start i32) (param $end i32)
    (local $rowBytes i32) (local $i i32) (local $r i32) (local $left i32) (local $first i32)
    (local $ap i32) (local $bp i32) (local $cp i32) (local $cEnd i32) (local $cq i32)
    (local $q0 i32) (local $q1 i32) (local $q2 i32) (local $q3 i32)
    (local $s0 v128) (local $s1 v128) (local $s2 v128) (local $s3 v128) (local $b0 v128) (local $b1 v128)
    (local $acc0 v128) (local $acc1 v128)
    ${set('rowBytes', `(i32.shl ${get('n')} ${i32(2)})`)}
    ${set('i', get('start'))}
    (block $rowsDone
      (loop $rows
        (br_if $rowsDone (i32.ge_s ${get('i')} ${get('end')}))
        ${set('cp', add(get('c'), mul(get('i'), get('rowBytes'))))}
        ${set('cEnd', add(get('cp'), get('rowBytes')))}
        ${set('r', i32(0))}
        (block $groupsDone
          (loop $groups
            (br_if $groupsDone (i32.ge_s ${get('r')} ${get('inner')}))
            ${set('left', sub(get('inner'), get('r')))}
            ${set('first', `(i32.eqz ${get('r')})`)}
            ${set('ap', add(get('a'), add(mul(get('r'), get('aRowBytes')), `(i32.shl ${get('i')} ${i32(2)})`)))}
            ${set('bp', add(get('b'), mul(get('r'), get('rowBytes'))))}
            ${dispatch}
            (br $groups)))
        ${set('i', add(get('i'), i32(1)))}
        (br $rows)))
  )`;
}

/** B's rows per block: read once from memory, then from L2 by every group of A's rows. */
const DOT_BLOCK_ROWS = 64;

/** A's rows that a pass takes at once (each with two of B's rows: eight sums in registers). */
const DOT_GROUP = [0, 1, 2, 3];

/** The sum of a v128 local's four lanes as an f32: (lane 0 + lane 2) + (lane 1 + lane 3). */
function laneSum(vector: string): string {
  const halves = `(f32x4.add ${get(vector)} (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 ${get(vector)} ${get(vector)}))`;
  return `(f32x4.extract_lane 0 (f32x4.add ${halves} (i8x16.shuffle 4 5 6 7 0 1 2 3 4 5 6 7 0 1 2 3 ${halves} ${halves})))`;
}

/**
 * `rowDotProducts(a, b, c, m, k, n, start, end)`: columns start..end of C = A B^T, for A [m, k], B [n, k]
 * and C [m, n] row-major: C[r, j] = A's row r . B's row j. B's rows in blocks of DOT_BLOCK_ROWS, two at a
 * time; A's rows in groups of 4 (a last group's unused lanes repeat its last row, read in bounds, not
 * stored); k in vectors of 4, then one by one. Each step also reads a value of the next two rows of B
 * (`ahead`, the pair's own rows at B's end), one per 32 bytes, so that they come from memory while this
 * pair is summed: wasm has no prefetch, and without it `[4, 512] x [100352, 512]^T` took 26.7 ms on one
 * thread (8.6 with B in L2) where it takes 11.3.
 */
function rowDotProductsWat(fused: boolean): string {
  const acc = (r: number, v: number) => `acc${r}${v}`;
  const accumulators = DOT_GROUP.flatMap((r) => [0, 1].map((v) => acc(r, v)));
  const step = (load: string) => [
    set('b0', `(${load} ${add(get('pb0'), get('t'))})`),
    set('b1', `(${load} ${add(get('pb1'), get('t'))})`),
    ...DOT_GROUP.flatMap((r) => [
      set('s', `(${load} ${add(get(`a${r}`), get('t'))})`),
      multiplyAdd(fused, acc(r, 0), 'b0'),
      multiplyAdd(fused, acc(r, 1), 'b1'),
    ]),
  ];
  const rowStarts = DOT_GROUP.map((r) =>
    set(`a${r}`, add(get('a'), mul(min(add(get('group'), i32(r)), sub(get('m'), i32(1))), get('rowBytes')))),
  );
  const cRows = DOT_GROUP.map((r) =>
    set(`c${r}`, add(get('c'), mul(min(add(get('group'), i32(r)), sub(get('m'), i32(1))), get('cRowBytes')))),
  );
  const stores = DOT_GROUP.map(
    (r) => `(if (i32.gt_u ${get('live')} ${i32(r)}) (then
              (f32.store ${add(get(`c${r}`), `(i32.shl ${get('j')} ${i32(2)})`)} ${laneSum(acc(r, 0))})
              (if ${get('pair')} (then (f32.store offset=4 ${add(get(`c${r}`), `(i32.shl ${get('j')} ${i32(2)})`)} ${laneSum(acc(r, 1))})))))`,
  );
  return `
  (func (export "rowDotProducts")
    (param $a i32) (param $b i32) (param $c i32) (param $m i32) (param $k i32) (param $n i32) (param $start i32)
    (param $end i32)
    (local $rowBytes i32) (local $cRowBytes i32) (local $vectorBytes i32) (local $jb i32) (local $jEnd i32)
    (local $group i32) (local $live i32) (local $j i32) (local $pair i32) (local $pb0 i32) (local $pb1 i32)
    (local $t i32) (local $ahead i32) (local $a0 i32) (local $a1 i32) (local $a2 i32) (local $a3 i32)
    (local $c0 i32) (local $c1 i32) (local $c2 i32) (local $c3 i32)
    (local $s v128) (local $b0 v128) (local $b1 v128) ${accumulators.map((name) => `(local $${name} v128)`).join(' ')}
    ${set('rowBytes', `(i32.shl ${get('k')} ${i32(2)})`)}
    ${set('cRowBytes', `(i32.shl ${get('n')} ${i32(2)})`)}
    ${set('vectorBytes', `(i32.and ${get('rowBytes')} ${i32(-16)})`)}
    ${set('jb', get('start'))}
    (block $blocksDone
      (loop $blocks
        (br_if $blocksDone (i32.ge_s ${get('jb')} ${get('end')}))
        ${set('jEnd', min(add(get('jb'), i32(DOT_BLOCK_ROWS)), get('end')))}
        ${set('group', i32(0))}
        (block $groupsDone
          (loop $groups
            (br_if $groupsDone (i32.ge_s ${get('group')} ${get('m')}))
            ${set('live', min(i32(DOT_GROUP.length), sub(get('m'), get('group'))))}
            ${rowStarts.join('\n            ')}
            ${cRows.join('\n            ')}
            ${set('j', get('jb'))}
            (block $pairsDone
              (loop $pairs
                (br_if $pairsDone (i32.ge_s ${get('j')} ${get('jEnd')}))
                ${set('pair', `(i32.lt_s ${add(get('j'), i32(1))} ${get('jEnd')})`)}
                ${set('pb0', add(get('b'), mul(get('j'), get('rowBytes'))))}
                ${set('pb1', `(select ${add(get('pb0'), get('rowBytes'))} ${get('pb0')} ${get('pair')})`)}
                ${set('ahead', `(select ${add(get('pb0'), `(i32.shl ${get('rowBytes')} ${i32(1)})`)} ${get('pb0')} (i32.lt_s ${add(get('j'), i32(3))} ${get('n')}))`)}
                ${accumulators.map((name) => set(name, '(v128.const i32x4 0 0 0 0)')).join(' ')}
                ${set('t', i32(0))}
                (if ${get('vectorBytes')} (then
                  (loop $vectors
                    ${step('v128.load').join('\n                    ')}
                    (drop (i32.load ${add(get('ahead'), `(i32.shl ${get('t')} ${i32(1)})`)}))
                    ${set('t', add(get('t'), i32(16)))}
                    (br_if $vectors (i32.lt_u ${get('t')} ${get('vectorBytes')})))))
                (block $singlesDone
                  (loop $singles
                    (br_if $singlesDone (i32.ge_u ${get('t')} ${get('rowBytes')}))
                    ${step('v128.load32_zero').join('\n                    ')}
                    ${set('t', add(get('t'), i32(4)))}
                    (br $singles)))
                ${stores.join('\n                ')}
                ${set('j', add(get('j'), i32(2)))}
                (br $pairs)))
            ${set('group', add(get('group'), i32(DOT_GROUP.length)))}
            (br $groups)))
        ${set('jb', get('jEnd'))}
        (br $blocks))))`;
}

/** Both functions' text, for the product module. */
export function thinProductWat(fused: boolean): string {
  return `${outerProductRowsWat(fused)}\n${rowDotProductsWat(fused)}`;
}
