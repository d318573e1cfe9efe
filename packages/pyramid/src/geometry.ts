/** Output stride of the dense network: one cell every 16 input pixels. */
export const STRIDE_PX = 16;

/**
 * Where the dense network sees the image at one scale. The image is resized to `scaledHeight x
 * scaledWidth` and padded by half a patch (`borderPx`) on every side, so that a patch can be centred
 * on any image pixel; cell `(i, j)` is the patch whose top-left corner is padded pixel `(16 j, 16 i)`,
 * hence centred on scaled pixel `(16 j, 16 i)`.
 */
export interface ScaleGeometry {
  scale: number;
  /** Actual factors after rounding the scaled size: scaled = image * factor. */
  scaleX: number;
  scaleY: number;
  scaledHeight: number;
  scaledWidth: number;
  borderPx: number;
  paddedHeight: number;
  paddedWidth: number;
  rows: number;
  cols: number;
  inputSizePx: number;
}

export function scaleGeometry(
  height: number,
  width: number,
  scale: number,
  inputSizePx: number,
): ScaleGeometry {
  if (inputSizePx % STRIDE_PX !== 0) {
    throw new Error(`pyramid: model config inputSizePx ${inputSizePx} must be a multiple of ${STRIDE_PX}`);
  }
  const scaledHeight = Math.max(1, Math.round(height * scale));
  const scaledWidth = Math.max(1, Math.round(width * scale));
  const borderPx = inputSizePx / 2;
  const paddedHeight = scaledHeight + 2 * borderPx;
  const paddedWidth = scaledWidth + 2 * borderPx;
  const [rows, cols] = denseGridSize([paddedHeight, paddedWidth], inputSizePx);
  return {
    scale,
    scaleX: scaledWidth / width,
    scaleY: scaledHeight / height,
    scaledHeight,
    scaledWidth,
    borderPx,
    paddedHeight,
    paddedWidth,
    rows,
    cols,
    inputSizePx,
  };
}

/** The patch of cell `(row, col)` in image pixels: its centre and its box `[x, y, width, height]`. */
export function cellToImage(geometry: ScaleGeometry, row: number, col: number) {
  const { scaleX, scaleY, inputSizePx } = geometry;
  const x = (STRIDE_PX * col) / scaleX;
  const y = (STRIDE_PX * row) / scaleY;
  const width = inputSizePx / scaleX;
  const height = inputSizePx / scaleY;
  const patchBox: [number, number, number, number] = [x - width / 2, y - height / 2, width, height];
  return { x, y, patchBox };
}

/** The cell whose patch centre is nearest to image pixel `(x, y)`, or null when it lies off the grid. */
export function imageToCell(
  geometry: ScaleGeometry,
  x: number,
  y: number,
): { row: number; col: number } | null {
  const col = Math.round((x * geometry.scaleX) / STRIDE_PX);
  const row = Math.round((y * geometry.scaleY) / STRIDE_PX);
  if (row < 0 || col < 0 || row >= geometry.rows || col >= geometry.cols) return null;
  return { row, col };
}

/**
 * The common input size of a batch of scales: their largest padded height and width, rounded up to a
 * multiple of the stride so that every stride-2 layer of a 'same'-padded trunk sees an even size and
 * pads only its bottom and right, as on a patch; otherwise the features shift against the patch form.
 */
export function batchInputSize(geometries: readonly ScaleGeometry[]): [height: number, width: number] {
  const roundUp = (px: number) => Math.ceil(px / STRIDE_PX) * STRIDE_PX;
  return [
    roundUp(Math.max(...geometries.map((g) => g.paddedHeight))),
    roundUp(Math.max(...geometries.map((g) => g.paddedWidth))),
  ];
}

/** Rows and columns of the dense output for an input of `[height, width]`. */
export function denseGridSize(
  [height, width]: readonly [number, number],
  inputSizePx: number,
): [number, number] {
  const cellsPerPatch = inputSizePx / STRIDE_PX;
  return [
    Math.floor(height / STRIDE_PX) - cellsPerPatch + 1,
    Math.floor(width / STRIDE_PX) - cellsPerPatch + 1,
  ];
}
