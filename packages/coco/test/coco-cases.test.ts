import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  boxIou,
  CocoDataset,
  type EvaluationResult,
  evaluate,
  maskIou,
  mergeRles,
  rleArea,
  rleFromCocoJson,
  rleFromPolygon,
  rleFromSegmentation,
  rleToBbox,
  rleToString,
} from '../src/index.js';
import { sharedDir } from './shared.js';

const shared = sharedDir();
const casesDir = shared && path.join(shared, 'coco-cases');
const cases: { dir: string }[] = casesDir
  ? JSON.parse(readFileSync(path.join(casesDir, 'index.json'), 'utf8'))
  : [];
if (!casesDir) console.warn('coco-cases: SKIPPED, shared folder not found (set DEEPMASK_SHARED)');

const TOL = 1e-9;
// biome-ignore lint/suspicious/noExplicitAny: expected.json is free-form reference data
type Json = any;

function expectClose(actual: ArrayLike<number> | number, expected: Json, label: string): void {
  if (typeof expected === 'number') {
    expect(Math.abs((actual as number) - expected), `${label}: ${actual} vs ${expected}`).toBeLessThanOrEqual(
      TOL,
    );
    return;
  }
  const a = Array.from(actual as ArrayLike<number>);
  const e = (expected as Json[]).flat(Infinity) as number[];
  expect(a.length, `${label}: length`).toBe(e.length);
  let worst = 0;
  for (let i = 1; i < e.length; i++) if (!(Math.abs(a[i] - e[i]) <= Math.abs(a[worst] - e[worst]))) worst = i;
  if (e.length > 0) {
    const diff = Math.abs(a[worst] - e[worst]);
    expect(diff, `${label}[${worst}]: ${a[worst]} vs ${e[worst]}`).toBeLessThanOrEqual(TOL);
  }
}

const MODES = {
  segm: { iouType: 'segm', useCats: true, dt: 'dt_segm.json' },
  segm_proposals: { iouType: 'segm', useCats: false, dt: 'dt_segm.json' },
  bbox: { iouType: 'bbox', useCats: true, dt: 'dt_bbox.json' },
  bbox_proposals: { iouType: 'bbox', useCats: false, dt: 'dt_bbox.json' },
} as const;

function checkEvaluation(result: EvaluationResult, expected: Json, label: string): void {
  const p = result.params;
  expect(p.maxDets).toEqual(expected.maxDets);
  expect(p.imgIds).toEqual(expected.params.imgIds);
  expect(p.catIds).toEqual(expected.params.catIds);
  expectClose(p.iouThrs, expected.params.iouThrs, `${label} iouThrs`);
  expect(p.iouThrs).toEqual(expected.params.iouThrs);
  expectClose(result.stats, expected.stats, `${label} stats`);
  // bit-for-bit, thanks to numpy's pairwise summation order
  expect(result.stats).toEqual(expected.stats);
  for (const [key, value] of Object.entries(expected.extra))
    expectClose(result.extra[key], value, `${label} extra ${key}`);
  for (const [key, value] of Object.entries(expected['per_category_AP@100'])) {
    expectClose(result.perCategoryAP[key], value, `${label} AP of category ${key}`);
  }
  expectClose(result.recall, expected.recall_TKAM, `${label} recall`);
  const [T, R, K, A, M] = [
    p.iouThrs.length,
    p.recThrs.length,
    p.catIds.length,
    p.areaRanges.length,
    p.maxDets.length,
  ];
  const meanPrecision: number[] = [];
  for (let t = 0; t < T; t++)
    for (let k = 0; k < K; k++)
      for (let a = 0; a < A; a++)
        for (let m = 0; m < M; m++) {
          let sum = 0;
          for (let r = 0; r < R; r++) sum += result.precision[(((t * R + r) * K + k) * A + a) * M + m];
          meanPrecision.push(sum / R);
        }
  expectClose(meanPrecision, expected.meanPrecision_TKAM, `${label} mean precision`);
  for (const raw of expected.raw) {
    const image = result.perImage.find((e) => e.imageId === raw.image_id && e.categoryId === raw.category_id);
    expect(image, `${label} image ${raw.image_id} category ${raw.category_id}`).toBeDefined();
    const ev = raw.evalImg_all;
    const e = image!;
    expect(Array.from(e.dtIds)).toEqual(raw.dt_ids);
    expect(Array.from(e.dtIds)).toEqual(ev.dtIds);
    expect(Array.from(e.gtIds)).toEqual(ev.gtIds);
    expectClose(e.dtScores, ev.dtScores, `${label} dtScores`);
    expect(Array.from(e.gtIgnore)).toEqual(ev.gtIgnore);
    expect(Array.from(e.dtMatches)).toEqual(ev.dtMatches.flat());
    expect(Array.from(e.gtMatches)).toEqual(ev.gtMatches.flat());
    expect(Array.from(e.dtIgnore)).toEqual(ev.dtIgnore.flat());
    const G = e.gtIds.length;
    const ious = raw.ious as number[][];
    for (let d = 0; d < raw.dt_ids.length; d++) {
      raw.gt_ids.forEach((gtId: number, poolIndex: number) => {
        const g = e.gtIds.indexOf(gtId);
        expectClose(e.ious[d * G + g], ious[d][poolIndex], `${label} iou dt ${raw.dt_ids[d]} gt ${gtId}`);
      });
    }
    for (let t = 0; t < e.gtMatches.length / G; t++) {
      for (let g = 0; g < G; g++) {
        const d = Array.from(e.dtIds).indexOf(e.gtMatches[t * G + g]);
        expect(e.gtMatchIou[t * G + g]).toBe(d < 0 ? 0 : e.ious[d * G + g]);
      }
    }
  }
}

describe.skipIf(!casesDir)('COCO reference cases (pycocotools output)', () => {
  for (const { dir } of cases) {
    describe(dir, () => {
      const read = (name: string): Json => JSON.parse(readFileSync(path.join(casesDir!, dir, name), 'utf8'));
      const expected = read('expected.json');
      const gtText = readFileSync(path.join(casesDir!, dir, 'gt.json'), 'utf8');

      for (const [mode, how] of Object.entries(MODES)) {
        it(`${mode} matches COCOeval`, () => {
          const gt = CocoDataset.fromJson(gtText, `${dir}/gt.json`);
          const result = evaluate(gt, read(how.dt), { iouType: how.iouType, useCats: how.useCats });
          checkEvaluation(result, expected[mode], `${dir} ${mode}`);
        });
      }

      it('mask facts match maskApi.c', () => {
        const facts = expected.mask_facts;
        for (const f of facts.frPoly) {
          const rle = rleFromPolygon(f.polygon, f.h, f.w);
          expect(Array.from(rle.counts), JSON.stringify(f.polygon)).toEqual(f.counts_list);
          expect(rleToString(rle)).toBe(f.counts);
          expect(rleArea(rle)).toBe(f.area);
          expect(rleToBbox(rle)).toEqual(f.bbox);
        }
        for (const f of facts.merged_polygons) {
          const rle = rleFromSegmentation(f.polygons, f.h, f.w);
          expect(rleToString(rle)).toBe(f.counts);
          expect(rleArea(rle)).toBe(f.area);
          expect(rleToBbox(rle)).toEqual(f.bbox);
        }
        for (const f of facts.frUncompressedRLE) {
          const rle = rleFromCocoJson(f.uncompressed);
          expect(rleToString(rle)).toBe(f.counts);
          expect(rleArea(rle)).toBe(f.area);
          expect(rleToBbox(rle)).toEqual(f.bbox);
        }
        for (const f of facts.encode) {
          const rle = rleFromCocoJson({ size: f.size, counts: f.counts });
          expect(Array.from(rle.counts)).toEqual(f.counts_list);
          expect(rleToString(rleFromCocoJson({ size: f.size, counts: f.counts_list }))).toBe(f.counts);
        }
        for (const f of facts.rle_iou) {
          const dt = rleFromCocoJson(f.dt);
          const gt = rleFromCocoJson(f.gt);
          expectClose(maskIou([dt], [gt], [false])[0][0], f.iou, 'rle iou');
          expectClose(maskIou([dt], [gt], [true])[0][0], f.iou_crowd, 'rle iou crowd');
          expect(rleArea(dt)).toBe(f.area_dt);
          expect(rleArea(gt)).toBe(f.area_gt);
          expect(rleArea(mergeRles([dt, gt], true))).toBe(f.area_intersection);
          expect(rleArea(mergeRles([dt, gt]))).toBe(f.area_union);
        }
        for (const f of facts.bbox_iou) {
          expectClose(boxIou([f.dt], [f.gt], [false])[0][0], f.iou, 'box iou');
          expectClose(boxIou([f.dt], [f.gt], [true])[0][0], f.iou_crowd, 'box iou crowd');
        }
        const gt = CocoDataset.fromJson(gtText, `${dir}/gt.json`);
        for (const [id, f] of Object.entries(facts.gt_annToRLE) as [string, Json][]) {
          const annotation = gt.annotations.find((a) => a.id === Number(id))!;
          const rle = gt.annotationRle(annotation);
          expect(rleToString(rle), `gt ${id}`).toBe(f.counts);
          expect(rleArea(rle)).toBe(f.mask_area);
          expect(rleToBbox(rle)).toEqual(f.toBbox);
        }
      });
    });
  }
});
