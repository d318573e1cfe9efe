// The wat of Winograd F(m x m, r x r)'s transforms, for scripts/gen-wasm.ts to append to simd-kernels.wat:
// straight-line SIMD code for each tile (4 channels at a time), generated from the algorithm's matrices.
// Those come from its interpolation points (Cook-Toom, Lavin & Gray 2016): for points p_0 .. p_{n-2} and
// infinity (n = m + r - 1), V_k is the n x k matrix of rows (1, p, .., p^{k-1}) and (0, .., 0, 1); then
// A^T = V_m^T, G = V_r and B^T = V_n^-T, each row of B^T scaled to coprime integers (G's row divided by
// the same). F(4x4, 3x3) takes the points 0, 1, -1, 1/2, -2 (Barabasz et al. 2020): on random layers its
// float32 error is a third of the usual 0, 1, -1, 2, -2's; F(2x2, 7x7) the same kind, 0, +-1, +-1/2, +-2.

import { winogradExportPrefix } from '../src/shared-simd-exports.js';

/** An exact rational number, num / den with den > 0 and no common factor. */
interface Ratio {
  num: number;
  den: number;
}

const gcd = (a: number, b: number): number => (b === 0 ? Math.abs(a) : gcd(b, a % b));
function ratio(num: number, den = 1): Ratio {
  const d = gcd(num, den) * Math.sign(den);
  return { num: num / d || 0, den: den / d };
}
const add = (a: Ratio, b: Ratio) => ratio(a.num * b.den + b.num * a.den, a.den * b.den);
const mul = (a: Ratio, b: Ratio) => ratio(a.num * b.num, a.den * b.den);
const div = (a: Ratio, b: Ratio) => ratio(a.num * b.den, a.den * b.num);
const ZERO = ratio(0);
const ONE = ratio(1);

type Matrix = Ratio[][];
const transpose = (a: Matrix): Matrix => a[0].map((_, j) => a.map((row) => row[j]));

/** The inverse of a square matrix by Gauss-Jordan elimination. */
function inverse(a: Matrix): Matrix {
  const n = a.length;
  const rows = a.map((row, i) => [...row, ...row.map((_, j) => (i === j ? ONE : ZERO))]);
  for (let col = 0; col < n; col++) {
    const pivot = rows.findIndex((row, i) => i >= col && row[col].num !== 0);
    [rows[col], rows[pivot]] = [rows[pivot], rows[col]];
    const scale = rows[col][col];
    rows[col] = rows[col].map((v) => div(v, scale));
    for (let i = 0; i < n; i++) {
      const factor = rows[i][col];
      if (i !== col && factor.num !== 0) {
        rows[i] = rows[i].map((v, j) => add(v, mul(ratio(-1), mul(factor, rows[col][j]))));
      }
    }
  }
  return rows.map((row) => row.slice(n));
}

export interface WinogradMatrices {
  /** Output tile size m: each tile is m x m outputs from an n x n input patch, n = m + r - 1. */
  m: number;
  /** Filter size r. */
  r: number;
  n: number;
  /** m x n */
  AT: Matrix;
  /** n x r */
  G: Matrix;
  /** n x n */
  BT: Matrix;
}

export function winogradMatrices(m: number, r: number, points: Ratio[]): WinogradMatrices {
  const n = m + r - 1;
  if (points.length !== n - 1) throw new Error(`F(${m}x${m}, ${r}x${r}) needs ${n - 1} finite points`);
  const vandermonde = (k: number): Matrix => [
    ...points.map((p) => Array.from({ length: k }, (_, i) => ratio(p.num ** i, p.den ** i))),
    Array.from({ length: k }, (_, i) => (i === k - 1 ? ONE : ZERO)),
  ];
  const G = vandermonde(r);
  const BT = transpose(inverse(vandermonde(n)));
  BT.forEach((row, j) => {
    const nonZero = row.filter((v) => v.num !== 0);
    const lcm = nonZero.reduce((l, v) => (l * v.den) / gcd(l, v.den), 1);
    const common = nonZero.reduce((g, v) => gcd(g, (v.num * lcm) / v.den), 0);
    const scale = ratio(lcm, common);
    BT[j] = row.map((v) => mul(v, scale));
    G[j] = G[j].map((v) => div(v, scale));
  });
  return { m, r, n, AT: transpose(vandermonde(m)), G, BT };
}

/**
 * The variants that simd-kernels.wat carries; F(2x2, 5x5) and F(2x2, 7x7) without the filter gradient's
 * transforms. F(2x2, 5x5) takes F(4x4, 3x3)'s points (a numpy model at 128 channels: 2.0e-6 of the largest
 * output, against 3.6e-6 for 0, 1, -1, 2, -2).
 */
export const WINOGRAD_VARIANTS: WinogradMatrices[] = [
  winogradMatrices(2, 3, [ratio(0), ratio(1), ratio(-1)]),
  winogradMatrices(4, 3, [ratio(0), ratio(1), ratio(-1), ratio(1, 2), ratio(-2)]),
  winogradMatrices(2, 5, [ratio(0), ratio(1), ratio(-1), ratio(1, 2), ratio(-2)]),
  winogradMatrices(2, 7, [ratio(0), ratio(1), ratio(-1), ratio(1, 2), ratio(-1, 2), ratio(2), ratio(-2)]),
];

const f32x4 = (v: Ratio) => {
  const text = String(v.num / v.den);
  return `(v128.const f32x4 ${text} ${text} ${text} ${text})`;
};

/** sum_k row[k] terms[k] as a wat expression. */
function combination(row: Ratio[], terms: string[]): string {
  let expression: string | null = null;
  row.forEach((k, i) => {
    if (k.num === 0) return;
    const magnitude = ratio(Math.abs(k.num), k.den);
    const term = magnitude.num === magnitude.den ? terms[i] : `(f32x4.mul ${terms[i]} ${f32x4(magnitude)})`;
    if (expression === null) expression = k.num > 0 ? term : `(f32x4.neg ${term})`;
    else expression = `(f32x4.${k.num > 0 ? 'add' : 'sub'} ${expression} ${term})`;
  });
  return expression ?? '(v128.const i32x4 0 0 0 0)';
}

const range = (n: number) => Array.from({ length: n }, (_, i) => i);
const params = (prefix: string, count: number) => range(count).map((k) => `(param $${prefix}${k} i32)`);
const v128Locals = (names: string[]) => names.map((name) => `(local ${name} v128)`).join(' ');
const matrixText = (a: Matrix) =>
  `[${a.map((row) => row.map((v) => (v.den === 1 ? v.num : `${v.num}/${v.den}`)).join(' ')).join('; ')}]`;

/** The loops over images, tile rows, tiles and 4-channel groups around one group's straight-line body. */
function tileLoops(perTile: string, body: string): string {
  return `    (block $imagesDone
      (loop $images
        (br_if $imagesDone (i32.ge_u (local.get $image) (local.get $n)))
        (local.set $ti (i32.const 0))
        (block $tileRowsDone
          (loop $tileRows
            (br_if $tileRowsDone (i32.ge_u (local.get $ti) (local.get $tilesH)))
            (local.set $tj (i32.const 0))
            (block $tilesDone
              (loop $tiles
                (br_if $tilesDone (i32.ge_u (local.get $tj) (local.get $tilesW)))
${perTile}
                (local.set $c (i32.const 0))
                (block $channelsDone
                  (loop $channelLoop
                    (br_if $channelsDone (i32.ge_u (local.get $c) (local.get $pixel)))
${body}
                    (local.set $c (i32.add (local.get $c) (i32.const 16)))
                    (br $channelLoop)))
                (local.set $tj (i32.add (local.get $tj) (i32.const 1)))
                (br $tiles)))
            (local.set $ti (i32.add (local.get $ti) (i32.const 1)))
            (br $tileRows)))
        (local.set $image (i32.add (local.get $image) (i32.const 1)))
        (br $images))))`;
}

const TILE_LOCALS =
  '(local $pixel i32) (local $rowBytes i32) (local $image i32) (local $ti i32) (local $tj i32) (local $c i32) (local $at i32)';
const indent = (lines: string[]) => lines.map((line) => `                    ${line}`).join('\n');

/** Byte offset of tile (image, ti, tj)'s row in the `[tiles, channels]` matrices. */
const TILE_ROW =
  '(i32.mul (local.get $pixel) (i32.add (i32.mul (i32.add (i32.mul (local.get $image) (local.get $tilesH)) (local.get $ti)) (local.get $tilesW)) (local.get $tj)))';

/** Address of the tile's first pixel in an image tensor `[n, rows, width, channels]` of `$rowBytes` rows. */
const tileCorner = (base: string, rows: string, m: number) =>
  `(i32.add (local.get ${base}) (i32.add (i32.mul (local.get $rowBytes) (i32.add (i32.mul (local.get $image) (local.get ${rows})) (i32.mul (local.get $ti) (i32.const ${m})))) (i32.mul (local.get $pixel) (i32.mul (local.get $tj) (i32.const ${m})))))`;

const pixelAt = (base: string, row: number, col: number) =>
  `(i32.add (local.get ${base}) (i32.add (i32.mul (local.get $rowBytes) (i32.const ${row})) (i32.mul (local.get $pixel) (i32.const ${col}))))`;

/** Whether output (u, v) of the tile lies inside the image (the last tiles may reach past its edges). */
const inside = (u: number, v: number) =>
  `(i32.and (i32.gt_s (local.get $rowsInside) (i32.const ${u})) (i32.gt_s (local.get $colsInside) (i32.const ${v})))`;
const edges = (
  m: number,
) => `                (local.set $rowsInside (i32.sub (local.get $outH) (i32.mul (local.get $ti) (i32.const ${m}))))
                (local.set $colsInside (i32.sub (local.get $outW) (i32.mul (local.get $tj) (i32.const ${m}))))`;

/** Per output tile: how much of it lies inside, its row in the matrices, its corner in `base`. */
const outputTileHeader = (m: number, base: string) => `${edges(m)}
                (local.set $tile ${TILE_ROW})
                (local.set $corner ${tileCorner(base, '$outH', m)})`;

/**
 * `left` x `loaded` x `right`^T in two passes, the first over columns, the second over rows (then stored);
 * loaded values go to locals first, so that each is read once.
 */
function sandwich(
  left: Matrix,
  right: Matrix,
  loaded: string[][],
  store: (r: number, s: number, value: string) => string,
) {
  const lines: string[] = [];
  const temporaries: string[] = [];
  const values = loaded.map((row, r) =>
    row.map((expression, c) => {
      if (expression.startsWith('(local.get')) return expression;
      temporaries.push(`$x${r}_${c}`);
      lines.push(`(local.set $x${r}_${c} ${expression})`);
      return `(local.get $x${r}_${c})`;
    }),
  );
  const columns = values[0].length;
  for (let r = 0; r < left.length; r++) {
    for (let c = 0; c < columns; c++) {
      temporaries.push(`$t${r}_${c}`);
      lines.push(
        `(local.set $t${r}_${c} ${combination(
          left[r],
          values.map((row) => row[c]),
        )})`,
      );
    }
  }
  for (let r = 0; r < left.length; r++) {
    const terms = range(columns).map((c) => `(local.get $t${r}_${c})`);
    for (let s = 0; s < right.length; s++) lines.push(store(r, s, combination(right[s], terms)));
  }
  return { lines, temporaries };
}

function inputTiles({ m, r, n, BT }: WinogradMatrices): string {
  const loaded = range(n).map((r) => range(n).map((c) => `(v128.load ${pixelAt('$at', r, c)})`));
  const { lines, temporaries } = sandwich(
    BT,
    BT,
    loaded,
    (r, s, value) => `(v128.store (i32.add (local.get $o${n * r + s}) (local.get $out)) ${value})`,
  );
  const body = [
    '(local.set $at (i32.add (local.get $patch) (local.get $c)))',
    '(local.set $out (i32.add (local.get $tile) (local.get $c)))',
    ...lines,
  ];
  return `
  ;; Winograd F(${m}x${m}, ${r}x${r}) input tiles: for each ${m}x${m} output tile (image, ti, tj) the ${n}x${n} input patch at
  ;; rows ${m} ti .. ${m} ti + ${n - 1} and columns ${m} tj .. ${m} tj + ${n - 1} of x ([n, height, width, channels], padded so that
  ;; every patch is inside; channels a multiple of 4) becomes B^T d B, whose ${n * n} entries go to the matrices
  ;; o0 .. o${n * n - 1} ([tiles, channels] each, row image tilesH tilesW + ti tilesW + tj):
  ;; B^T = ${matrixText(BT)}.
  (func (export "${winogradExportPrefix(m, r)}InputTiles")
    (param $x i32) (param $n i32) (param $height i32) (param $width i32) (param $channels i32)
    (param $tilesH i32) (param $tilesW i32) ${params('o', n * n).join(' ')}
    ${TILE_LOCALS} (local $patch i32) (local $tile i32) (local $out i32)
    ${v128Locals(temporaries)}
    (local.set $pixel (i32.shl (local.get $channels) (i32.const 2)))
    (local.set $rowBytes (i32.mul (local.get $pixel) (local.get $width)))
${tileLoops(
  `                (local.set $patch ${tileCorner('$x', '$height', m)})
                (local.set $tile ${TILE_ROW})`,
  indent(body),
)}`;
}

function outputTiles({ m, r, n, AT }: WinogradMatrices): string {
  const loaded = range(n).map((r) =>
    range(n).map((c) => `(v128.load (i32.add (local.get $m${n * r + c}) (local.get $at)))`),
  );
  const { lines, temporaries } = sandwich(AT, AT, loaded, (u, v, value) => {
    const store = `(v128.store ${pixelAt('$target', u, v)} ${value})`;
    return u === 0 && v === 0 ? store : `(if ${inside(u, v)} (then ${store}))`;
  });
  const body = [
    '(local.set $at (i32.add (local.get $tile) (local.get $c)))',
    `(local.set $target (i32.add (local.get $corner) (local.get $c)))`,
    ...lines,
  ];
  return `
  ;; Winograd F(${m}x${m}, ${r}x${r}) output tiles: the ${n * n} products m0 .. m${n * n - 1} ([tiles, channels] each, channels a
  ;; multiple of 4) of each tile become its ${m}x${m} outputs A^T m A, written to y ([n, outH, outW, channels]) where
  ;; they lie inside it: A^T = ${matrixText(AT)}.
  (func (export "${winogradExportPrefix(m, r)}OutputTiles")
    (param $y i32) (param $n i32) (param $outH i32) (param $outW i32) (param $channels i32)
    (param $tilesH i32) (param $tilesW i32) ${params('m', n * n).join(' ')}
    ${TILE_LOCALS} (local $tile i32) (local $corner i32) (local $target i32) (local $rowsInside i32) (local $colsInside i32)
    ${v128Locals(temporaries)}
    (local.set $pixel (i32.shl (local.get $channels) (i32.const 2)))
    (local.set $rowBytes (i32.mul (local.get $pixel) (local.get $outW)))
${tileLoops(outputTileHeader(m, '$y'), indent(body))}`;
}

function gradientTiles({ m, r, n, AT }: WinogradMatrices): string {
  const A = transpose(AT);
  const names = range(m).map((u) => range(m).map((v) => `$d${u}_${v}`));
  const loads = range(m).flatMap((u) =>
    range(m).map((v) => {
      const load = `(local.set ${names[u][v]} (v128.load ${pixelAt('$at', u, v)}))`;
      return u === 0 && v === 0
        ? load
        : `(local.set ${names[u][v]} (v128.const i32x4 0 0 0 0)) (if ${inside(u, v)} (then ${load}))`;
    }),
  );
  const loaded = names.map((row) => row.map((name) => `(local.get ${name})`));
  const { lines, temporaries } = sandwich(
    A,
    A,
    loaded,
    (r, s, value) => `(v128.store (i32.add (local.get $o${n * r + s}) (local.get $out)) ${value})`,
  );
  const body = [
    '(local.set $at (i32.add (local.get $corner) (local.get $c)))',
    '(local.set $out (i32.add (local.get $tile) (local.get $c)))',
    ...loads,
    ...lines,
  ];
  return `
  ;; Winograd F(${m}x${m}, ${r}x${r}) output-gradient tiles: each tile's ${m}x${m} block of dy ([n, outH, outW, channels], zero
  ;; past its edges; channels a multiple of 4) becomes A dy A^T, whose ${n * n} entries go to o0 .. o${n * n - 1} ([tiles,
  ;; channels] each): the filter gradient's factor, A the transpose of A^T above.
  (func (export "${winogradExportPrefix(m, r)}GradientTiles")
    (param $dy i32) (param $n i32) (param $outH i32) (param $outW i32) (param $channels i32)
    (param $tilesH i32) (param $tilesW i32) ${params('o', n * n).join(' ')}
    ${TILE_LOCALS} (local $tile i32) (local $corner i32) (local $out i32) (local $rowsInside i32) (local $colsInside i32)
    ${v128Locals([...names.flat(), ...temporaries])}
    (local.set $pixel (i32.shl (local.get $channels) (i32.const 2)))
    (local.set $rowBytes (i32.mul (local.get $pixel) (local.get $outW)))
${tileLoops(outputTileHeader(m, '$dy'), indent(body))}`;
}

/** A loop over the `size` (a multiple of 4) values of each filter tap, 4 at a time. */
function filterLoop(
  name: string,
  comment: string,
  n: number,
  temporaries: string[],
  lines: string[],
): string {
  return `
  ;; ${comment}
  (func (export "${name}")
    (param $filter i32) (param $size i32) (param $first i32) (param $count i32) ${params('u', n * n).join(' ')}
    (local $at i32) (local $end i32) (local $tapBytes i32)
    ${v128Locals(temporaries)}
    (local.set $tapBytes (i32.shl (local.get $size) (i32.const 2)))
    (local.set $at (i32.shl (local.get $first) (i32.const 2)))
    (local.set $end (i32.shl (i32.add (local.get $first) (local.get $count)) (i32.const 2)))
    (block $done
      (loop $values
        (br_if $done (i32.ge_u (local.get $at) (local.get $end)))
${lines.map((line) => `        ${line}`).join('\n')}
        (local.set $at (i32.add (local.get $at) (i32.const 16)))
        (br $values))))`;
}

/** Address of filter tap (a, b) of an r x r filter `[r, r, C, O]` at the loop's 4 values. */
const tap = (r: number, a: number, b: number) =>
  `(i32.add (local.get $filter) (i32.add (local.get $at) (i32.mul (local.get $tapBytes) (i32.const ${r * a + b}))))`;

function filterTransform({ m, r, n, G }: WinogradMatrices): string {
  const loaded = range(r).map((a) => range(r).map((b) => `(v128.load ${tap(r, a, b)})`));
  const { lines, temporaries } = sandwich(
    G,
    G,
    loaded,
    (r, s, value) => `(v128.store (i32.add (local.get $u${n * r + s}) (local.get $at)) ${value})`,
  );
  const comment = `The transformed filter U = G g G^T of Winograd F(${m}x${m}, ${r}x${r}) for every (c, o): g the ${r}x${r} filter
  ;; [${r}, ${r}, C, O] (\`size\` = C O values per tap, a multiple of 4), U ${n * n} matrices [C, O] (u0 .. u${n * n - 1});
  ;; G = ${matrixText(G)}. The \`count\` (c, o) pairs from \`first\` (multiples of 4).`;
  return filterLoop(`${winogradExportPrefix(m, r)}Filter`, comment, n, temporaries, lines);
}

function filterGradientTransform({ m, r, n, G }: WinogradMatrices): string {
  const GT = transpose(G);
  const loaded = range(n).map((r) =>
    range(n).map((s) => `(v128.load (i32.add (local.get $u${n * r + s}) (local.get $at)))`),
  );
  const { lines, temporaries } = sandwich(
    GT,
    GT,
    loaded,
    (a, b, value) => `(v128.store ${tap(r, a, b)} ${value})`,
  );
  const comment = `The filter gradient dW = G^T dU G of Winograd F(${m}x${m}, ${r}x${r}) for every (c, o): dU ${n * n} matrices
  ;; [C, O] (u0 .. u${n * n - 1}), dW [${r}, ${r}, C, O] (\`size\` = C O values per tap, a multiple of 4); the \`count\`
  ;; (c, o) pairs from \`first\` (multiples of 4).`;
  return filterLoop(`${winogradExportPrefix(m, r)}FilterGradient`, comment, n, temporaries, lines);
}

/** Every variant's functions as wat module fields: five for 3x3 filters, the forward three for larger. */
export function winogradWat(): string {
  return WINOGRAD_VARIANTS.flatMap((variant) => [
    inputTiles(variant),
    outputTiles(variant),
    filterTransform(variant),
    ...(variant.r === 3 ? [gradientTiles(variant), filterGradientTransform(variant)] : []),
  ]).join('\n');
}
