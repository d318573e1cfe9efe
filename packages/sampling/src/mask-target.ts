import type { Rle } from '@deepmask/coco';
import { type PatchPlacement, patchToImageX, patchToImageY } from './geometry.js';

/** Column x of a column-major RLE as 0/1 bytes, read from its runs (end offsets in `runEnds`). */
function readColumn(runEnds: Float64Array, height: number, x: number, column: Uint8Array): void {
  const start = x * height;
  let low = 0;
  let high = runEnds.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if (runEnds[middle] <= start) low = middle + 1;
    else high = middle;
  }
  let y = 0;
  for (let run = low; run < runEnds.length && y < height; run++) {
    const until = Math.min(runEnds[run] - start, height);
    column.fill(run % 2, y, until);
    y = until;
  }
  column.fill(0, y);
}

/**
 * The object's mask seen through the patch at `placement`, at L x L covering the whole patch: each
 * label pixel takes the mask value of the image pixel under its centre (+1 inside, -1 elsewhere and
 * outside the image), into out[offset .. offset + L * L) row-major.
 */
export function maskTarget(
  rle: Rle,
  placement: PatchPlacement,
  inputSizePx: number,
  labelSizePx: number,
  out: Float32Array,
  offset: number,
): void {
  const [height, width] = rle.size;
  const runEnds = new Float64Array(rle.counts.length);
  let end = 0;
  rle.counts.forEach((count, run) => {
    end += count;
    runEnds[run] = end;
  });
  const patchPxPerLabelPx = inputSizePx / labelSizePx;
  const imageRows = new Int32Array(labelSizePx);
  for (let b = 0; b < labelSizePx; b++) {
    imageRows[b] = Math.floor(patchToImageY(placement, inputSizePx, (b + 0.5) * patchPxPerLabelPx));
  }
  const column = new Uint8Array(height);
  let columnX = -1;
  for (let a = 0; a < labelSizePx; a++) {
    const x = Math.floor(patchToImageX(placement, inputSizePx, (a + 0.5) * patchPxPerLabelPx));
    const insideX = x >= 0 && x < width;
    if (insideX && x !== columnX) {
      readColumn(runEnds, height, x, column);
      columnX = x;
    }
    for (let b = 0; b < labelSizePx; b++) {
      const y = imageRows[b];
      out[offset + b * labelSizePx + a] = insideX && y >= 0 && y < height && column[y] === 1 ? 1 : -1;
    }
  }
}
