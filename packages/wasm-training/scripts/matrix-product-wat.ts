// The wat of our matrix product C = A B (scripts/gen-wasm.ts assembles it into src/matrix-product-wasm.ts):
// B packed into panels of 8 columns, tiles of 4 rows x 8 columns summed in eight registers over blocks of
// KC steps (the block's panel stays in L1), rows in blocks of MC (their A in L2). A is read in place at
// any strides, so a transposed A costs nothing. `fused` takes relaxed SIMD's f32x4.relaxed_madd (one FMA
// instruction where the CPU has FMA) instead of a multiply and an add.

import { depthwiseConvolutionWat } from './depthwise-convolution-wat.js';
import { directConvolutionWat } from './direct-convolution-wat.js';
import { fewRowsProductWat } from './few-rows-product-wat.js';
import { tapFilterGradientWat } from './tap-filter-gradient-wat.js';
import { tapInputGradientWat } from './tap-input-gradient-wat.js';
import { thinProductWat } from './thin-product-wat.js';
import { add, epilogueWat, get, i32, mul, multiplyAdd, RELU_EPILOGUE, RELU6_EPILOGUE, set } from './wat.js';

/** Columns of a panel of packed B (two vectors). */
export const PANEL_COLUMNS = 8;
/** Steps of k per block: a panel block of 16 KB (measured best against 256, and 32 or 128 rows). */
const KC = 512;
/** Rows per block: their packed A (128 KB) stays in L2 while every panel passes over them. */
const MC = 64;

/**
 * `$tile`: C[4 x 8] (+)= A-tile B-panel over `steps` steps; the tile is A's 4 rows packed step by step
 * (16 bytes a step), C's row r at `c + r cStride`; `load` adds to C's values.
 */
function tile(fused: boolean): string {
  const rows = [0, 1, 2, 3];
  const acc = (r: number, v: number) => `c${r}${v}`;
  const accumulators = rows.flatMap((r) => [acc(r, 0), acc(r, 1)]);
  const step = [
    set('b0', `(v128.load ${get('bp')})`),
    set('b1', `(v128.load offset=16 ${get('bp')})`),
    ...rows.flatMap((r) => [
      set('s', `(v128.load32_splat offset=${4 * r} ${get('ap')})`),
      multiplyAdd(fused, acc(r, 0), 'b0'),
      multiplyAdd(fused, acc(r, 1), 'b1'),
    ]),
    set('ap', add(get('ap'), i32(16))),
    set('bp', add(get('bp'), i32(32))),
  ];
  const rowAddress = (r: number) => (r === 0 ? get('c') : add(get('c'), mul(get('cStride'), i32(r))));
  const init = accumulators.map((name, index) => {
    const load = `(v128.load offset=${(index % 2) * 16} ${rowAddress(Math.floor(index / 2))})`;
    return `(if ${get('load')} (then ${set(name, load)}) (else ${set(name, '(v128.const i32x4 0 0 0 0)')}))`;
  });
  const store = accumulators.map(
    (name, index) =>
      `(v128.store offset=${(index % 2) * 16} ${rowAddress(Math.floor(index / 2))} ${get(name)})`,
  );
  return `
  (func $tile
    (param $ap i32) (param $bp i32) (param $steps i32) (param $c i32) (param $cStride i32) (param $load i32)
    (param $bias i32) (param $epilogue i32)
    ${accumulators.map((name) => `(local $${name} v128)`).join(' ')} (local $b0 v128) (local $b1 v128) (local $s v128)
    ${init.join('\n    ')}
    (loop $steps
      ${step.join('\n      ')}
      ${set('steps', '(i32.sub (local.get $steps) (i32.const 1))')}
      (br_if $steps ${get('steps')}))
    ${epilogueWat(accumulators, 'bias', ['b0', 'b1'], 'epilogue')}
    ${store.join('\n    ')})`;
}

/** The byte address in packed B of column $j's value at step 0 (its panel's start plus its lane). */
const COLUMN_START = `(i32.add (local.get $packed)
  (i32.shl (i32.add (i32.mul (i32.shr_u (local.get $j) (i32.const 3)) (i32.shl (local.get $k) (i32.const 3)))
    (i32.and (local.get $j) (i32.const 7))) (i32.const 2)))`;

/** Byte indices of an i8x16.shuffle that takes these four 32-bit lanes (0-3 the first vector's, 4-7 the second's). */
const lanes = (indices: number[]) =>
  indices.flatMap((lane) => [0, 1, 2, 3].map((byte) => 4 * lane + byte)).join(' ');

/**
 * The 4 x 4 transpose of the v128 locals `rows` (lane i of output s is lane s of row i) in eight shuffles:
 * `setup` sets the four v128 locals `pairs`, `outputs` are the four transposed vectors' expressions.
 */
function transpose4x4(rows: string[], pairs: string[]): { setup: string; outputs: string[] } {
  const shuffle = (indices: number[], x: string, y: string) =>
    `(i8x16.shuffle ${lanes(indices)} ${get(x)} ${get(y)})`;
  const [low, high, low2, high2] = pairs;
  const setup = [
    set(low, shuffle([0, 4, 1, 5], rows[0], rows[1])),
    set(high, shuffle([2, 6, 3, 7], rows[0], rows[1])),
    set(low2, shuffle([0, 4, 1, 5], rows[2], rows[3])),
    set(high2, shuffle([2, 6, 3, 7], rows[2], rows[3])),
  ].join('\n');
  const outputs = [
    shuffle([0, 1, 4, 5], low, low2),
    shuffle([2, 3, 6, 7], low, low2),
    shuffle([0, 1, 4, 5], high, high2),
    shuffle([2, 3, 6, 7], high, high2),
  ];
  return { setup, outputs };
}

/** Four steps of a transposed B's panel: its 8 columns' runs at `$from`, stored as 4 rows of 8 at `$to`. */
function transposedPanelSteps(): string {
  const runs = [0, 1, 2, 3, 4, 5, 6, 7];
  const loads = runs.map((q) =>
    set(`v${q}`, `(v128.load ${q === 0 ? get('from') : add(get('from'), mul(get('colStride'), i32(q)))})`),
  );
  const pairs = ['p0', 'p1', 'p2', 'p3'];
  const halves = [0, 1].map((half) => {
    const { setup, outputs } = transpose4x4(
      [0, 1, 2, 3].map((q) => `v${4 * half + q}`),
      pairs,
    );
    const stores = outputs.map(
      (value, step) => `(v128.store offset=${32 * step + 16 * half} ${get('to')} ${value})`,
    );
    return [setup, ...stores].join('\n');
  });
  return [...loads, ...halves].join('\n');
}

/**
 * A loop over a transposed B's panel, `steps` steps a pass (`body`), from `$t` up to the local `bound`:
 * `$from` moves along the runs, `$to` down the panel.
 */
function transposedPanelLoop(label: string, bound: string, steps: number, body: string): string {
  return `(block $${label}Done
                (loop $${label}
                  (br_if $${label}Done (i32.ge_u ${get('t')} ${get(bound)}))
                  ${body}
                  ${set('from', add(get('from'), i32(4 * steps)))}
                  ${set('to', add(get('to'), i32(32 * steps)))}
                  ${set('t', add(get('t'), i32(steps)))}
                  (br $${label})))`;
}

/** One step of a transposed B's panel, value by value: its 8 columns' values at `$from` into 8 floats at `$to`. */
function transposedPanelStep(): string {
  return [0, 1, 2, 3, 4, 5, 6, 7]
    .map(
      (q) =>
        `(f32.store offset=${4 * q} ${get('to')} (f32.load ${q === 0 ? get('from') : add(get('from'), mul(get('colStride'), i32(q)))}))`,
    )
    .join('\n');
}

/**
 * `packPanels(b, rowStride, colStride, packed, k, n)`: B's element (t, j) at `b + t rowStride + j colStride`
 * (bytes) into panels of 8 columns, `packed[((j / 8) k + t) 8 + j % 8]`, the last panel's missing columns
 * zero. Reads along whichever of B's axes is contiguous.
 */
const packPanels = `
  (func (export "packPanels")
    (param $b i32) (param $rowStride i32) (param $colStride i32) (param $packed i32) (param $k i32) (param $n i32)
    (local $j i32) (local $t i32) (local $from i32) (local $to i32) (local $panelEnd i32) (local $whole i32)
    ${[0, 1, 2, 3, 4, 5, 6, 7].map((q) => `(local $v${q} v128)`).join(' ')}
    (local $p0 v128) (local $p1 v128) (local $p2 v128) (local $p3 v128)
    (local.set $panelEnd (i32.and (i32.add (local.get $n) (i32.const 7)) (i32.const -8)))
    ;; zero the padding columns of the last panel
    (local.set $j (local.get $n))
    (block $padDone
      (loop $pad
        (br_if $padDone (i32.ge_u (local.get $j) (local.get $panelEnd)))
        (local.set $to ${COLUMN_START})
        (local.set $t (local.get $k))
        (block $zeroDone
          (loop $zero
            (br_if $zeroDone (i32.eqz (local.get $t)))
            (f32.store (local.get $to) (f32.const 0))
            (local.set $to (i32.add (local.get $to) (i32.const 32)))
            (local.set $t (i32.sub (local.get $t) (i32.const 1)))
            (br $zero)))
        (local.set $j (i32.add (local.get $j) (i32.const 1)))
        (br $pad)))
    (local.set $j (i32.const 0))
    (if (i32.eq (local.get $colStride) (i32.const 4))
      (then
        ;; rows contiguous: two panels at a time (a row's 16 values, one cache line when aligned) down all
        ;; the rows, so that the writes run along two panels rather than across every panel (k x 32 bytes
        ;; apart: a TLB miss a store once B outgrows a few pages); then a last full panel
        (block $pairsDone
          (loop $pairs
            (br_if $pairsDone (i32.gt_u (i32.add (local.get $j) (i32.const 16)) (local.get $n)))
            (local.set $from (i32.add (local.get $b) (i32.shl (local.get $j) (i32.const 2))))
            (local.set $to ${COLUMN_START})
            (local.set $panelEnd (i32.add (local.get $to) (i32.shl (local.get $k) (i32.const 5))))
            (local.set $t (local.get $k))
            (block $pairRowsDone
              (loop $pairRows
                (br_if $pairRowsDone (i32.eqz (local.get $t)))
                (v128.store (local.get $to) (v128.load (local.get $from)))
                (v128.store offset=16 (local.get $to) (v128.load offset=16 (local.get $from)))
                (v128.store (local.get $panelEnd) (v128.load offset=32 (local.get $from)))
                (v128.store offset=16 (local.get $panelEnd) (v128.load offset=48 (local.get $from)))
                (local.set $from (i32.add (local.get $from) (local.get $rowStride)))
                (local.set $to (i32.add (local.get $to) (i32.const 32)))
                (local.set $panelEnd (i32.add (local.get $panelEnd) (i32.const 32)))
                (local.set $t (i32.sub (local.get $t) (i32.const 1)))
                (br $pairRows)))
            (local.set $j (i32.add (local.get $j) (i32.const 16)))
            (br $pairs)))
        (if (i32.le_u (i32.add (local.get $j) (i32.const 8)) (local.get $n))
          (then
            (local.set $from (i32.add (local.get $b) (i32.shl (local.get $j) (i32.const 2))))
            (local.set $to ${COLUMN_START})
            (local.set $t (local.get $k))
            (block $panelRowsDone
              (loop $panelRows
                (br_if $panelRowsDone (i32.eqz (local.get $t)))
                (v128.store (local.get $to) (v128.load (local.get $from)))
                (v128.store offset=16 (local.get $to) (v128.load offset=16 (local.get $from)))
                (local.set $from (i32.add (local.get $from) (local.get $rowStride)))
                (local.set $to (i32.add (local.get $to) (i32.const 32)))
                (local.set $t (i32.sub (local.get $t) (i32.const 1)))
                (br $panelRows)))
            (local.set $j (i32.add (local.get $j) (i32.const 8))))))
      (else (if (i32.eq (local.get $rowStride) (i32.const 4))
        (then
          ;; columns contiguous (a transposed B, as a layer's input gradient multiplies by): a panel's 8
          ;; columns are 8 runs along k, read four steps at a time and stored as two 4 x 4 transposes, then
          ;; the last k % 4 steps value by value
          (local.set $whole (i32.and (local.get $k) (i32.const -4)))
          (block $runsDone
            (loop $runs
              (br_if $runsDone (i32.gt_u (i32.add (local.get $j) (i32.const 8)) (local.get $n)))
              (local.set $from (i32.add (local.get $b) (i32.mul (local.get $j) (local.get $colStride))))
              (local.set $to ${COLUMN_START})
              (local.set $t (i32.const 0))
              ${transposedPanelLoop('quads', 'whole', 4, transposedPanelSteps())}
              ${transposedPanelLoop('steps', 'k', 1, transposedPanelStep())}
              (local.set $j (i32.add (local.get $j) (i32.const 8)))
              (br $runs)))))))
    ;; the remaining columns (a last partial panel's, or all of a B strided both ways), each down the rows
    (block $columnsDone
      (loop $columns
        (br_if $columnsDone (i32.ge_u (local.get $j) (local.get $n)))
        (local.set $from (i32.add (local.get $b) (i32.mul (local.get $j) (local.get $colStride))))
        (local.set $to ${COLUMN_START})
        (local.set $t (local.get $k))
        (block $valuesDone
          (loop $values
            (br_if $valuesDone (i32.eqz (local.get $t)))
            (f32.store (local.get $to) (f32.load (local.get $from)))
            (local.set $from (i32.add (local.get $from) (local.get $rowStride)))
            (local.set $to (i32.add (local.get $to) (i32.const 32)))
            (local.set $t (i32.sub (local.get $t) (i32.const 1)))
            (br $values)))
        (local.set $j (i32.add (local.get $j) (i32.const 1)))
        (br $columns))))`;

/** $packTiles' 4 x 4 transpose of four rows' four steps. */
const tileTranspose = transpose4x4(['v0', 'v1', 'v2', 'v3'], ['low', 'high', 'low2', 'high2']);

/**
 * `$packTiles`: the first `rows` (a multiple of 4) rows of A packed as `$packRows` does, for an A whose
 * steps (strideK 4) or rows (strideI 4) are contiguous: four steps of four rows as a 4 x 4 transpose in
 * eight shuffles (then the last steps value by value), or each step's four values as one vector.
 */
const packTiles = `
  (func $packTiles
    (param $a i32) (param $strideI i32) (param $strideK i32) (param $rows i32) (param $steps i32) (param $to i32)
    (local $r i32) (local $t i32) (local $from i32) (local $at i32) (local $whole i32) (local $q i32)
    (local $v0 v128) (local $v1 v128) (local $v2 v128) (local $v3 v128) (local $low v128) (local $high v128)
    (local $low2 v128) (local $high2 v128)
    (local.set $whole (i32.and (local.get $steps) (i32.const -4)))
    (block $tilesDone
      (loop $tiles
        (br_if $tilesDone (i32.ge_u (local.get $r) (local.get $rows)))
        (local.set $from (i32.add (local.get $a) (i32.mul (local.get $r) (local.get $strideI))))
        (local.set $at (local.get $to))
        (if (i32.eq (local.get $strideK) (i32.const 4))
          (then
            (local.set $t (i32.const 0))
            (block $quadsDone
              (loop $quads
                (br_if $quadsDone (i32.ge_u (local.get $t) (local.get $whole)))
                (local.set $v0 (v128.load (local.get $from)))
                (local.set $v1 (v128.load (i32.add (local.get $from) (local.get $strideI))))
                (local.set $v2 (v128.load (i32.add (local.get $from) (i32.shl (local.get $strideI) (i32.const 1)))))
                (local.set $v3 (v128.load (i32.add (local.get $from) (i32.mul (local.get $strideI) (i32.const 3)))))
                ${tileTranspose.setup}
                ${tileTranspose.outputs.map((value, step) => `(v128.store offset=${16 * step} (local.get $at) ${value})`).join('\n                ')}
                (local.set $from (i32.add (local.get $from) (i32.const 16)))
                (local.set $at (i32.add (local.get $at) (i32.const 64)))
                (local.set $t (i32.add (local.get $t) (i32.const 4)))
                (br $quads)))
            ;; the last steps: each row's values one by one
            (block $tailDone
              (br_if $tailDone (i32.eq (local.get $whole) (local.get $steps)))
              (local.set $q (i32.const 0))
              (loop $tailRows
                (local.set $t (local.get $whole))
                (loop $tailSteps
                  (f32.store
                    (i32.add (local.get $at)
                      (i32.add (i32.shl (i32.sub (local.get $t) (local.get $whole)) (i32.const 4)) (i32.shl (local.get $q) (i32.const 2))))
                    (f32.load
                      (i32.add (i32.add (local.get $from) (i32.mul (local.get $q) (local.get $strideI)))
                        (i32.shl (i32.sub (local.get $t) (local.get $whole)) (i32.const 2)))))
                  (local.set $t (i32.add (local.get $t) (i32.const 1)))
                  (br_if $tailSteps (i32.lt_u (local.get $t) (local.get $steps))))
                (local.set $q (i32.add (local.get $q) (i32.const 1)))
                (br_if $tailRows (i32.lt_u (local.get $q) (i32.const 4))))))
          (else
            ;; rows contiguous: each step's four values are one vector
            (local.set $t (local.get $steps))
            (loop $values
              (v128.store (local.get $at) (v128.load (local.get $from)))
              (local.set $from (i32.add (local.get $from) (local.get $strideK)))
              (local.set $at (i32.add (local.get $at) (i32.const 16)))
              (local.set $t (i32.sub (local.get $t) (i32.const 1)))
              (br_if $values (local.get $t)))))
        (local.set $to (i32.add (local.get $to) (i32.shl (local.get $steps) (i32.const 4))))
        (local.set $r (i32.add (local.get $r) (i32.const 4)))
        (br $tiles))))`;

/**
 * `productRows(a, strideI, strideK, packed, c, cStride, rowStart, rowEnd, n, k, work, bias, epilogue)`: rows
 * [rowStart, rowEnd) of C = A B (then the `epilogue` with the n values at `bias`), A's element (i, t) at `a + i strideI + t strideK`
 * (bytes), B packed by packPanels, C row-major with rows `cStride` bytes apart. `work` is this caller's own
 * WORK_BYTES: A's block of MC rows x KC steps packed in tiles of 4 rows (rows 4 KB apart would alias in
 * L1), then a 4 x 8 tile for C's edges (fewer than 4 rows or 8 columns), copied from there.
 */
const productRows = `
  (func (export "productRows")
    (param $a i32) (param $strideI i32) (param $strideK i32) (param $packed i32) (param $c i32) (param $cStride i32)
    (param $rowStart i32) (param $rowEnd i32) (param $n i32) (param $k i32) (param $work i32)
    (param $bias i32) (param $epilogue i32)
    (local $k0 i32) (local $steps i32) (local $load i32) (local $m0 i32) (local $rows i32) (local $p i32) (local $i i32)
    (local $bp i32) (local $ap i32) (local $cAt i32) (local $cols i32) (local $tileRows i32) (local $edge i32)
    (local $finish i32)
    (local.set $edge (i32.add (local.get $work) (i32.const ${MC * KC * 4})))
    (block $blocksDone
      (loop $blocks
        (br_if $blocksDone (i32.ge_u (local.get $k0) (local.get $k)))
        (local.set $steps (i32.sub (local.get $k) (local.get $k0)))
        (if (i32.gt_u (local.get $steps) (i32.const ${KC})) (then (local.set $steps (i32.const ${KC}))))
        (local.set $load (i32.ne (local.get $k0) (i32.const 0)))
        ;; the epilogue with the last block of steps, on the finished sums
        (local.set $finish (select (local.get $epilogue) (i32.const 0)
          (i32.eq (i32.add (local.get $k0) (local.get $steps)) (local.get $k))))
        (local.set $m0 (local.get $rowStart))
        (block $rowBlocksDone
          (loop $rowBlocks
            (br_if $rowBlocksDone (i32.ge_u (local.get $m0) (local.get $rowEnd)))
            (local.set $rows (i32.sub (local.get $rowEnd) (local.get $m0)))
            (if (i32.gt_u (local.get $rows) (i32.const ${MC})) (then (local.set $rows (i32.const ${MC}))))
            (call $packRows
              (i32.add (local.get $a) (i32.add (i32.mul (local.get $m0) (local.get $strideI)) (i32.mul (local.get $k0) (local.get $strideK))))
              (local.get $strideI) (local.get $strideK) (local.get $rows) (local.get $steps) (local.get $work))
            (local.set $p (i32.const 0))
            (block $panelsDone
              (loop $panels
                (br_if $panelsDone (i32.ge_u (local.get $p) (local.get $n)))
                (local.set $cols (i32.sub (local.get $n) (local.get $p)))
                (if (i32.gt_u (local.get $cols) (i32.const 8)) (then (local.set $cols (i32.const 8))))
                (local.set $bp (i32.add (local.get $packed)
                  (i32.shl (i32.add (i32.mul (local.get $p) (local.get $k)) (i32.shl (local.get $k0) (i32.const 3))) (i32.const 2))))
                (local.set $ap (local.get $work))
                (local.set $i (i32.const 0))
                (block $tilesDone
                  (loop $tiles
                    (br_if $tilesDone (i32.ge_u (local.get $i) (local.get $rows)))
                    (local.set $tileRows (i32.sub (local.get $rows) (local.get $i)))
                    (if (i32.gt_u (local.get $tileRows) (i32.const 4)) (then (local.set $tileRows (i32.const 4))))
                    (local.set $cAt (i32.add (local.get $c)
                      (i32.add (i32.mul (i32.add (local.get $m0) (local.get $i)) (local.get $cStride)) (i32.shl (local.get $p) (i32.const 2)))))
                    (if (i32.and (i32.eq (local.get $tileRows) (i32.const 4)) (i32.eq (local.get $cols) (i32.const 8)))
                      (then (call $tile (local.get $ap) (local.get $bp) (local.get $steps) (local.get $cAt) (local.get $cStride) (local.get $load)
                        (i32.add (local.get $bias) (i32.shl (local.get $p) (i32.const 2))) (local.get $finish)))
                      (else
                        (call $tile (local.get $ap) (local.get $bp) (local.get $steps) (local.get $edge) (i32.const 32) (i32.const 0)
                          (i32.const 0) (i32.const 0))
                        (call $edgeTile (local.get $edge) (local.get $cAt) (local.get $cStride) (local.get $tileRows)
                          (local.get $cols) (local.get $load) (i32.add (local.get $bias) (i32.shl (local.get $p) (i32.const 2)))
                          (local.get $finish))))
                    (local.set $ap (i32.add (local.get $ap) (i32.shl (local.get $steps) (i32.const 4))))
                    (local.set $i (i32.add (local.get $i) (i32.const 4)))
                    (br $tiles)))
                (local.set $p (i32.add (local.get $p) (i32.const 8)))
                (br $panels)))
            (local.set $m0 (i32.add (local.get $m0) (local.get $rows)))
            (br $rowBlocks)))
        (local.set $k0 (i32.add (local.get $k0) (local.get $steps)))
        (br $blocks))))

  ;; rows x steps of A (element (i, t) at a + i strideI + t strideK) into tiles of 4 rows, each step's 4
  ;; values together; a last tile's missing rows zero. Whole tiles of an A contiguous along either axis go
  ;; by vectors ($packTiles), the rest value by value.
  (func $packRows
    (param $a i32) (param $strideI i32) (param $strideK i32) (param $rows i32) (param $steps i32) (param $to i32)
    (local $r i32) (local $end i32) (local $from i32) (local $at i32) (local $t i32)
    (local.set $end (i32.and (i32.add (local.get $rows) (i32.const 3)) (i32.const -4)))
    (if (i32.or (i32.eq (local.get $strideK) (i32.const 4)) (i32.eq (local.get $strideI) (i32.const 4)))
      (then
        (local.set $r (i32.and (local.get $rows) (i32.const -4)))
        (call $packTiles (local.get $a) (local.get $strideI) (local.get $strideK) (local.get $r)
          (local.get $steps) (local.get $to))))
    (block $rowsDone
      (loop $rowsLoop
        (br_if $rowsDone (i32.ge_u (local.get $r) (local.get $end)))
        (local.set $at (i32.add (local.get $to)
          (i32.add (i32.mul (i32.shr_u (local.get $r) (i32.const 2)) (i32.shl (local.get $steps) (i32.const 4)))
            (i32.shl (i32.and (local.get $r) (i32.const 3)) (i32.const 2)))))
        (local.set $from (i32.add (local.get $a) (i32.mul (local.get $r) (local.get $strideI))))
        (local.set $t (local.get $steps))
        (if (i32.lt_u (local.get $r) (local.get $rows))
          (then
            (loop $values
              (f32.store (local.get $at) (f32.load (local.get $from)))
              (local.set $from (i32.add (local.get $from) (local.get $strideK)))
              (local.set $at (i32.add (local.get $at) (i32.const 16)))
              (local.set $t (i32.sub (local.get $t) (i32.const 1)))
              (br_if $values (local.get $t))))
          (else
            (loop $zeros
              (f32.store (local.get $at) (f32.const 0))
              (local.set $at (i32.add (local.get $at) (i32.const 16)))
              (local.set $t (i32.sub (local.get $t) (i32.const 1)))
              (br_if $zeros (local.get $t)))))
        (local.set $r (i32.add (local.get $r) (i32.const 1)))
        (br $rowsLoop))))
${packTiles}
  ;; C's first rows x cols (at most 4 x 8) = (or +=, when load) the edge tile's, then the epilogue (the
  ;; columns' bias at $bias, a ReLU or ReLU6) as $tile applies it.
  (func $edgeTile
    (param $edge i32) (param $c i32) (param $cStride i32) (param $rows i32) (param $cols i32) (param $load i32)
    (param $bias i32) (param $epilogue i32)
    (local $r i32) (local $j i32) (local $to i32) (local $value f32)
    (block $rowsDone
      (loop $rowsLoop
        (br_if $rowsDone (i32.ge_u (local.get $r) (local.get $rows)))
        (local.set $j (i32.const 0))
        (block $colsDone
          (loop $colsLoop
            (br_if $colsDone (i32.ge_u (local.get $j) (local.get $cols)))
            (local.set $to (i32.add (i32.add (local.get $c) (i32.mul (local.get $r) (local.get $cStride))) (i32.shl (local.get $j) (i32.const 2))))
            (local.set $value (f32.load (i32.add (local.get $edge) (i32.shl (i32.add (i32.shl (local.get $r) (i32.const 3)) (local.get $j)) (i32.const 2)))))
            (if (local.get $load) (then (local.set $value (f32.add (f32.load (local.get $to)) (local.get $value)))))
            (if (local.get $epilogue)
              (then
                (local.set $value (f32.add (local.get $value) (f32.load (i32.add (local.get $bias) (i32.shl (local.get $j) (i32.const 2))))))
                (if (i32.ge_u (local.get $epilogue) (i32.const ${RELU_EPILOGUE}))
                  (then (local.set $value (select (f32.const 0) (local.get $value) (f32.lt (local.get $value) (f32.const 0))))))
                (if (i32.eq (local.get $epilogue) (i32.const ${RELU6_EPILOGUE}))
                  (then (local.set $value (select (f32.const 6) (local.get $value) (f32.gt (local.get $value) (f32.const 6))))))))
            (f32.store (local.get $to) (local.get $value))
            (local.set $j (i32.add (local.get $j) (i32.const 1)))
            (br $colsLoop)))
        (local.set $r (i32.add (local.get $r) (i32.const 1)))
        (br $rowsLoop))))`;

/** Bytes of `work` that each caller of productRows gives it. */
export const WORK_BYTES = MC * KC * 4 + 4 * 8 * 4;

/**
 * The module's text: a memory imported as `env.memory` (shared or not), the functions above, the tap
 * filter and input gradients (scripts/tap-filter-gradient-wat.ts, tap-input-gradient-wat.ts), the
 * direct and depthwise convolutions (scripts/direct-convolution-wat.ts, depthwise-convolution-wat.ts), the
 * product of few rows (scripts/few-rows-product-wat.ts) and a dense layer's gradients at small batches
 * (scripts/thin-product-wat.ts), which share the product's helper thread.
 */
export function matrixProductWat(fused: boolean, shared: boolean): string {
  return `(module
  (import "env" "memory" (memory 1${shared ? ' 65536 shared' : ''}))
${packPanels}
${productRows}
${tile(fused)}
${tapFilterGradientWat(fused)}
${tapInputGradientWat(fused)}
${directConvolutionWat(fused)}
${fewRowsProductWat(fused)}
${thinProductWat(fused)}
${depthwiseConvolutionWat(fused)})
`;
}
