import { describe, expect, it } from 'vitest';
import { resolveSamplingConfig } from '../src/config.js';
import { isNegativeFor, negativePlacement, positivePlacement } from '../src/geometry.js';
import { randomStream } from '../src/random.js';

const rules = resolveSamplingConfig({ inputSizePx: 224, maskSizePx: 56 });

/** Where the box centre lands in the patch, in patch pixels, by the placement's definition. */
function centreInPatch(
  p: { centreX: number; centreY: number; scale: number; flipped: boolean },
  box: number[],
) {
  const dx = (box[0] + box[2] / 2 - p.centreX) * p.scale;
  const dy = (box[1] + box[3] / 2 - p.centreY) * p.scale;
  return [112 + (p.flipped ? -dx : dx), 112 + dy];
}

describe('config', () => {
  it('has the paper sizes at 224 and scales them with the patch', () => {
    expect(rules).toMatchObject({
      canonicalSizePx: 128,
      jitterPx: 16,
      negativeOffsetPx: 32,
      labelSizePx: 56,
    });
    const small = resolveSamplingConfig({ inputSizePx: 160, maskSizePx: 56, labelSizePx: 112 });
    expect(small.canonicalSizePx).toBeCloseTo((128 * 160) / 224, 9);
    expect(small.jitterPx).toBeCloseTo((16 * 160) / 224, 9);
    expect(small.labelSizePx).toBe(112);
    expect(
      resolveSamplingConfig({ inputSizePx: 160, maskSizePx: 56, canonicalSizePx: 92 }).canonicalSizePx,
    ).toBe(92);
  });

  it('names the offending field', () => {
    expect(() => resolveSamplingConfig({ inputSizePx: 224, maskSizePx: 56, batchSize: 0 })).toThrow(
      /'batchSize'/,
    );
    expect(() => resolveSamplingConfig({ inputSizePx: 224, maskSizePx: 56, negativeOffsetPx: 10 })).toThrow(
      /'negativeOffsetPx'.*jitterPx/,
    );
    expect(() =>
      resolveSamplingConfig({ inputSizePx: 224, maskSizePx: 56, batchMode: 'both' as 'mixed' }),
    ).toThrow(/'batchMode'/);
  });
});

describe('positivePlacement', () => {
  it('centres the object within +-16 px and sizes it at 128 * 2^(+-1/4), flipping half', () => {
    const random = randomStream(3);
    let flips = 0;
    let maxOffset = 0;
    let maxScaleLog2 = 0;
    for (let i = 0; i < 5000; i++) {
      const box = [
        random.uniform(0, 500),
        random.uniform(0, 400),
        random.uniform(5, 300),
        random.uniform(5, 300),
      ];
      const p = positivePlacement(box, rules, random);
      const [cx, cy] = centreInPatch(p, box);
      maxOffset = Math.max(maxOffset, Math.abs(cx - 112), Math.abs(cy - 112));
      maxScaleLog2 = Math.max(maxScaleLog2, Math.abs(Math.log2((Math.max(box[2], box[3]) * p.scale) / 128)));
      if (p.flipped) flips++;
    }
    expect(maxOffset).toBeLessThanOrEqual(16 + 1e-9);
    expect(maxOffset).toBeGreaterThan(15.5);
    expect(maxScaleLog2).toBeLessThanOrEqual(0.25 + 1e-9);
    expect(maxScaleLog2).toBeGreaterThan(0.24);
    expect(Math.abs(flips - 2500)).toBeLessThan(200);
  });
});

describe('negative rule', () => {
  const box = [100, 100, 64, 32]; // centre (132, 116), larger side 64
  const at = (centreX: number, centreY: number, scale: number) => ({
    centreX,
    centreY,
    scale,
    flipped: false,
  });

  it('holds 32 patch px off centre on either axis, or 2^1 off scale, and not inside both', () => {
    // scale 2: the object is 128 px in the patch (canonical), so only the offset decides; 16 image px = 32 patch px.
    expect(isNegativeFor(at(132 + 16, 116, 2), [box], rules)).toBe(true);
    expect(isNegativeFor(at(132, 116 - 16, 2), [box], rules)).toBe(true);
    expect(isNegativeFor(at(132 + 15.9, 116 + 15.9, 2), [box], rules)).toBe(false);
    // centred, at 2^1 and 2^-1 of the canonical scale, and just inside
    expect(isNegativeFor(at(132, 116, 4), [box], rules)).toBe(true);
    expect(isNegativeFor(at(132, 116, 1), [box], rules)).toBe(true);
    expect(isNegativeFor(at(132, 116, 3.9), [box], rules)).toBe(false);
    // every object counts: passing one and failing another is not a negative
    expect(isNegativeFor(at(132, 116, 2), [[0, 0, 10, 10], box], rules)).toBe(false);
  });

  it('negativePlacement only returns patches that pass the rule against every object', () => {
    const random = randomStream(5);
    const boxes = [
      [10, 10, 100, 80],
      [200, 150, 40, 40],
      [50, 300, 300, 120],
    ];
    let found = 0;
    for (let i = 0; i < 2000; i++) {
      const p = negativePlacement(640, 480, boxes, rules, random);
      if (p === null) continue;
      found++;
      for (const b of boxes) {
        const [cx, cy] = centreInPatch(p, b);
        const offset = Math.max(Math.abs(cx - 112), Math.abs(cy - 112));
        const scaleOff = Math.abs(Math.log2((Math.max(b[2], b[3]) * p.scale) / 128));
        expect(offset >= 32 || scaleOff >= 1).toBe(true);
      }
      const windowLog2 = Math.log2(224 / p.scale / 640);
      expect(windowLog2).toBeGreaterThanOrEqual(-3 - 1e-9);
      expect(windowLog2).toBeLessThanOrEqual(0.5 + 1e-9);
    }
    expect(found).toBeGreaterThan(1900);
  });
});
