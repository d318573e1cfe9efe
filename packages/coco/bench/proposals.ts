import {
  type CocoDataset,
  type CocoResult,
  type Rle,
  rleFromPolygon,
  rleToBbox,
  rleToCocoJson,
} from '../src/index.js';

/** mulberry32: a small seeded generator, so the benchmark's proposals are the same on every run. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Filled ellipse, built column by column straight into runs (column-major, like every COCO RLE). */
export function ellipseRle(
  cx: number,
  cy: number,
  rx: number,
  ry: number,
  height: number,
  width: number,
): Rle {
  const counts: number[] = [];
  let zeros = 0;
  for (let x = 0; x < width; x++) {
    const u = (x + 0.5 - cx) / rx;
    const half = u * u < 1 ? ry * Math.sqrt(1 - u * u) : -1;
    const y0 = Math.max(0, Math.ceil(cy - half - 0.5));
    const y1 = Math.min(height, Math.ceil(cy + half - 0.5));
    if (half < 0 || y1 <= y0) {
      zeros += height;
      continue;
    }
    const previousOnes = counts.length % 2 === 1 && y0 === 0 && zeros === 0;
    if (previousOnes) counts[counts.length - 1] += y1 - y0;
    else counts.push(zeros + y0, y1 - y0);
    zeros = height - y1;
  }
  counts.push(zeros);
  return { size: [height, width], counts: Uint32Array.from(counts) };
}

/**
 * `perImage` proposals for every image: half are ground-truth polygons scaled and shifted at random, half
 * random ellipses; scores uniform. Returns segm results (compressed RLE) and bbox results (their boxes).
 */
export function makeProposals(
  gt: CocoDataset,
  perImage: number,
  seed: number,
): { segm: CocoResult[]; bbox: CocoResult[] } {
  const random = seededRandom(seed);
  const segm: CocoResult[] = [];
  const bbox: CocoResult[] = [];
  const categoryId = gt.categoryIds[0];
  for (const image of gt.images) {
    const { height, width } = image;
    const polygons = gt
      .annotationsOf(image.id)
      .filter((a) => Array.isArray(a.segmentation))
      .map((a) => a.segmentation as number[][]);
    for (let n = 0; n < perImage; n++) {
      let rle: Rle;
      if (polygons.length > 0 && n % 2 === 0) {
        const parts = polygons[Math.floor(random() * polygons.length)];
        rle = jitteredPolygon(parts[0], random, height, width);
      } else {
        const rx = 4 + random() * width * 0.3;
        const ry = 4 + random() * height * 0.3;
        rle = ellipseRle(random() * width, random() * height, rx, ry, height, width);
      }
      const score = random();
      segm.push({ image_id: image.id, category_id: categoryId, segmentation: rleToCocoJson(rle), score });
      bbox.push({ image_id: image.id, category_id: categoryId, bbox: rleToBbox(rle), score });
    }
  }
  return { segm, bbox };
}

function jitteredPolygon(xy: number[], random: () => number, height: number, width: number): Rle {
  let cx = 0;
  let cy = 0;
  for (let i = 0; i < xy.length; i += 2) {
    cx += xy[i];
    cy += xy[i + 1];
  }
  cx /= xy.length / 2;
  cy /= xy.length / 2;
  const scale = 0.7 + random() * 0.6;
  const dx = (random() - 0.5) * 20;
  const dy = (random() - 0.5) * 20;
  const moved = xy.map((v, i) => (i % 2 === 0 ? cx + (v - cx) * scale + dx : cy + (v - cy) * scale + dy));
  return rleFromPolygon(moved, height, width);
}
