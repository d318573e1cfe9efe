import { describe, expect, it } from 'vitest';
import { planScaleBatches } from '../src/batching.js';
import { batchInputSize, cellToImage, imageToCell, scaleGeometry } from '../src/geometry.js';
import { rankCandidates, topIndices } from '../src/ranking.js';
import { scaleList } from '../src/scales.js';

describe('scaleList', () => {
  it('defaults to the paper: 2^-2 .. 2^1 in steps of 2^(1/2)', () => {
    const scales = scaleList();
    expect(scales).toHaveLength(7);
    [0.25, Math.SQRT1_2 / 2, 0.5, Math.SQRT1_2, 1, Math.SQRT2, 2].forEach((s, k) => {
      expect(scales[k]).toBeCloseTo(s, 12);
    });
  });

  it('takes a list or a range and rejects bad ones', () => {
    expect(scaleList([1, 0.5])).toEqual([1, 0.5]);
    expect(scaleList({ minLog2: -1, maxLog2: 0, stepLog2: 1 })).toEqual([0.5, 1]);
    expect(() => scaleList([])).toThrow(/empty/);
    expect(() => scaleList([1, -2])).toThrow(/-2/);
    expect(() => scaleList({ minLog2: 1, maxLog2: 0, stepLog2: 1 })).toThrow(/maxLog2/);
  });
});

describe('scale geometry', () => {
  // 480 x 640 at scale 0.5 with 160-px patches: 240 x 320 scaled, padded by 80 to 400 x 480.
  const g = scaleGeometry(480, 640, 0.5, 160);

  it('pads by half a patch and has floor(H/16) - F + 1 cells', () => {
    expect([g.scaledHeight, g.scaledWidth, g.borderPx]).toEqual([240, 320, 80]);
    expect([g.paddedHeight, g.paddedWidth]).toEqual([400, 480]);
    expect([g.rows, g.cols]).toEqual([400 / 16 - 10 + 1, 480 / 16 - 10 + 1]);
  });

  it('maps cells to image pixels: cell (i, j) is centred on scaled pixel (16 j, 16 i)', () => {
    expect(cellToImage(g, 0, 0)).toEqual({ x: 0, y: 0, patchBox: [-160, -160, 320, 320] });
    // scaled (16 * 3, 16 * 2) = (48, 32) -> image (96, 64); the patch is 160 / 0.5 = 320 px wide
    expect(cellToImage(g, 2, 3)).toEqual({ x: 96, y: 64, patchBox: [-64, -96, 320, 320] });
    const last = cellToImage(g, g.rows - 1, g.cols - 1);
    expect([last.x, last.y]).toEqual([640, 480]);
  });

  it('maps image pixels back to the nearest cell, and off-grid points to null', () => {
    expect(imageToCell(g, 96, 64)).toEqual({ row: 2, col: 3 });
    expect(imageToCell(g, 96 + 15, 64 - 15)).toEqual({ row: 2, col: 3 });
    expect(imageToCell(g, 640, 480)).toEqual({ row: g.rows - 1, col: g.cols - 1 });
    expect(imageToCell(g, -40, 0)).toBeNull();
    for (let i = 0; i < g.rows; i++) {
      for (let j = 0; j < g.cols; j++) {
        const { x, y } = cellToImage(g, i, j);
        expect(imageToCell(g, x, y)).toEqual({ row: i, col: j });
      }
    }
  });

  it('uses the actual factors when the scaled size is rounded', () => {
    const odd = scaleGeometry(101, 99, 0.5, 32); // 51 x 50 (rounded)
    expect([odd.scaledHeight, odd.scaledWidth]).toEqual([51, 50]);
    expect(odd.scaleY).toBeCloseTo(51 / 101, 15);
    expect(cellToImage(odd, 1, 1).x).toBeCloseTo((16 * 99) / 50, 12);
  });

  it('sizes a batch input to the largest scale, rounded up to a multiple of the stride', () => {
    const odd = scaleGeometry(101, 99, 0.5, 32); // padded 83 x 82
    expect(batchInputSize([odd])).toEqual([96, 96]);
    expect(batchInputSize([odd, g])).toEqual([400, 480]);
  });

  it('rejects a patch size that is not a multiple of the stride', () => {
    expect(() => scaleGeometry(10, 10, 1, 40)).toThrow(/inputSizePx 40/);
  });
});

describe('ranking', () => {
  it('returns the top n indices, best first, ties by index', () => {
    expect(Array.from(topIndices([0.1, 0.9, -1, 0.9, 0.5], 3))).toEqual([1, 3, 4]);
    expect(Array.from(topIndices([1, 2], 5))).toEqual([1, 0]);
  });

  it('ranks candidates of all scales together', () => {
    const c = (scaleIndex: number, row: number, col: number, scoreLogit: number) => ({
      scaleIndex,
      row,
      col,
      scoreLogit,
    });
    const all = [c(0, 0, 0, 1), c(1, 2, 2, 3), c(1, 0, 1, 1), c(2, 5, 5, -1), c(0, 1, 0, 3)];
    expect(rankCandidates(all, 3)).toEqual([c(0, 1, 0, 3), c(1, 2, 2, 3), c(0, 0, 0, 1)]);
    expect(rankCandidates(all, 0)).toEqual([]);
  });
});

describe('planScaleBatches', () => {
  const sizes = [
    [100, 100],
    [400, 400],
    [200, 200],
    [300, 250],
  ] as const;

  it('runs every scale alone when batching is off, largest first', () => {
    expect(planScaleBatches(sizes, false)).toEqual([[1], [3], [2], [0]]);
  });

  it('groups scales within the pixel budget and the padding share', () => {
    // 2 x 400 x 400 = 320000 px with 160000 + 75000 own: 26.6% padding; 2 x 200 x 200 with 50000 own: 37.5%
    expect(planScaleBatches(sizes, { maxPixels: 320_000, maxPaddingFraction: 0.3 })).toEqual([
      [1, 3],
      [2],
      [0],
    ]);
    expect(planScaleBatches(sizes, { maxPixels: 1e9, maxPaddingFraction: 1 })).toEqual([[1, 3, 2, 0]]);
    expect(planScaleBatches(sizes, { maxPixels: 100_000, maxPaddingFraction: 1 })).toEqual([
      [1],
      [3],
      [2, 0],
    ]);
  });
});
