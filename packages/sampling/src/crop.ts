import type { Rgb } from './config.js';
import { type PatchPlacement, patchToImageX, patchToImageY } from './geometry.js';
import type { RgbImage } from './types.js';

/**
 * Bilinear taps along one axis for every patch pixel: source offsets (of clamped indices, so always
 * readable, times `stride`) and weights (zero where the tap falls outside the image, whose share then
 * goes to the mean colour).
 */
interface AxisTaps {
  offset0: Int32Array;
  offset1: Int32Array;
  weight0: Float32Array;
  weight1: Float32Array;
}

function axisTaps(
  count: number,
  limit: number,
  stride: number,
  imageCoordinate: (patchCoordinate: number) => number,
): AxisTaps {
  const taps: AxisTaps = {
    offset0: new Int32Array(count),
    offset1: new Int32Array(count),
    weight0: new Float32Array(count),
    weight1: new Float32Array(count),
  };
  for (let i = 0; i < count; i++) {
    // Pixel centres: patch pixel i samples at i + .5; decoded pixel k has its centre at k + .5.
    const source = imageCoordinate(i + 0.5) - 0.5;
    const k = Math.floor(source);
    const fraction = source - k;
    const inside0 = k >= 0 && k < limit;
    const inside1 = k + 1 >= 0 && k + 1 < limit;
    taps.offset0[i] = inside0 ? k * stride : 0;
    taps.offset1[i] = inside1 ? (k + 1) * stride : 0;
    taps.weight0[i] = inside0 ? 1 - fraction : 0;
    taps.weight1[i] = inside1 ? fraction : 0;
  }
  return taps;
}

/**
 * Cuts the patch at `placement` (in the coordinates of the image at full size, `fullWidth` x
 * `fullHeight`) out of `image`, decoded at that size or smaller, by bilinear sampling, into
 * out[offset .. offset + iSz * iSz * 3) as [iSz, iSz, 3] raw values; outside the image reads `meanColour`.
 */
export function cropPatch(
  image: RgbImage,
  fullWidth: number,
  fullHeight: number,
  placement: PatchPlacement,
  inputSizePx: number,
  meanColour: Rgb,
  out: Float32Array,
  offset: number,
): void {
  const { data, width, height } = image;
  // Decoded pixel j spans [j, j + 1) / (width / fullWidth) of the full-size image.
  const xScale = width / fullWidth;
  const yScale = height / fullHeight;
  const columns = axisTaps(inputSizePx, width, 3, (u) => patchToImageX(placement, inputSizePx, u) * xScale);
  const rows = axisTaps(
    inputSizePx,
    height,
    width * 3,
    (v) => patchToImageY(placement, inputSizePx, v) * yScale,
  );
  const [meanR, meanG, meanB] = meanColour;
  let o = offset;
  for (let v = 0; v < inputSizePx; v++) {
    const row0 = rows.offset0[v];
    const row1 = rows.offset1[v];
    const b0 = rows.weight0[v];
    const b1 = rows.weight1[v];
    for (let u = 0; u < inputSizePx; u++) {
      const a0 = columns.weight0[u];
      const a1 = columns.weight1[u];
      const c0 = columns.offset0[u];
      const c1 = columns.offset1[u];
      const p00 = row0 + c0;
      const p01 = row0 + c1;
      const p10 = row1 + c0;
      const p11 = row1 + c1;
      const w00 = a0 * b0;
      const w01 = a1 * b0;
      const w10 = a0 * b1;
      const w11 = a1 * b1;
      // The taps inside the image are separable, so their total weight is (a0 + a1) * (b0 + b1).
      const outside = 1 - (a0 + a1) * (b0 + b1);
      out[o] = w00 * data[p00] + w01 * data[p01] + w10 * data[p10] + w11 * data[p11] + outside * meanR;
      out[o + 1] =
        w00 * data[p00 + 1] +
        w01 * data[p01 + 1] +
        w10 * data[p10 + 1] +
        w11 * data[p11 + 1] +
        outside * meanG;
      out[o + 2] =
        w00 * data[p00 + 2] +
        w01 * data[p01 + 2] +
        w10 * data[p10 + 2] +
        w11 * data[p11 + 2] +
        outside * meanB;
      o += 3;
    }
  }
}
