import { describe, expect, it } from 'vitest';
import { WINOGRAD_VARIANTS } from '../scripts/winograd-wat.js';
import { randomValues } from './backends.js';

type Ratio = { num: number; den: number };
const values = (matrix: Ratio[][]) => matrix.map((row) => row.map((v) => v.num / v.den));
const product = (a: number[][], b: number[][]) =>
  a.map((row) => b[0].map((_, j) => row.reduce((sum, v, k) => sum + v * b[k][j], 0)));
const transposed = (a: number[][]) => a[0].map((_, j) => a.map((row) => row[j]));

describe.each(WINOGRAD_VARIANTS)('Winograd F($m x $m, $r x $r) matrices', (variant) => {
  const [AT, G, BT] = [values(variant.AT), values(variant.G), values(variant.BT)];
  const { m, r, n } = variant;

  it('correlate any input patch with any r x r filter: A^T [(G g G^T) . (B^T d B)] A', () => {
    const random = (rows: number, seed: number) => {
      const flat = randomValues(rows * rows, seed);
      return Array.from({ length: rows }, (_, r) => Array.from(flat.slice(r * rows, (r + 1) * rows)));
    };
    for (let seed = 1; seed <= 5; seed++) {
      const [d, g] = [random(n, seed), random(r, 100 + seed)];
      const U = product(product(G, g), transposed(G));
      const V = product(product(BT, d), transposed(BT));
      const y = product(
        product(
          AT,
          U.map((row, i) => row.map((u, j) => u * V[i][j])),
        ),
        transposed(AT),
      );
      for (let i = 0; i < m; i++) {
        for (let j = 0; j < m; j++) {
          let direct = 0;
          for (let a = 0; a < r; a++) for (let b = 0; b < r; b++) direct += d[i + a][j + b] * g[a][b];
          expect(y[i][j]).toBeCloseTo(direct, 10);
        }
      }
    }
  });

  it('have integer input transforms (their fractions moved into G)', () => {
    expect(variant.BT.flat().every((v) => v.den === 1)).toBe(true);
  });
});

it("gives F(2x2, 3x3) as Lavin & Gray print it (the sign of B^T's and A^T's last row and column aside)", () => {
  const [f2] = WINOGRAD_VARIANTS;
  expect(values(f2.BT)).toEqual([
    [1, 0, -1, 0],
    [0, 1, 1, 0],
    [0, -1, 1, 0],
    [0, -1, 0, 1],
  ]);
  expect(values(f2.G)).toEqual([
    [1, 0, 0],
    [0.5, 0.5, 0.5],
    [0.5, -0.5, 0.5],
    [0, 0, 1],
  ]);
  expect(values(f2.AT)).toEqual([
    [1, 1, 1, 0],
    [0, 1, -1, 1],
  ]);
});
