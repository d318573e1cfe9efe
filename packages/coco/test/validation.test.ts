import { describe, expect, it } from 'vitest';
import {
  CocoDataset,
  CocoFormatError,
  evaluate,
  rleFromCocoJson,
  rleFromSegmentation,
} from '../src/index.js';
import { type LooseGt, tinyGt } from './fixtures.js';

function loadError(mutate: (gt: LooseGt) => unknown): CocoFormatError {
  const gt = tinyGt();
  const json = mutate(gt) ?? gt;
  try {
    CocoDataset.fromJson(typeof json === 'string' ? json : JSON.stringify(json), 'gt.json');
  } catch (error) {
    expect(error).toBeInstanceOf(CocoFormatError);
    return error as CocoFormatError;
  }
  throw new Error('expected a CocoFormatError');
}

describe('CocoDataset.fromJson', () => {
  it('indexes images, categories and annotations', () => {
    const gt = CocoDataset.fromJson(tinyGt(), 'gt.json');
    expect(gt.categoryIds).toEqual([1, 3]);
    expect(gt.image(7).width).toBe(6);
    expect(gt.annotationsOf(0).map((a) => a.id)).toEqual([1, 2]);
    expect(gt.annotationRle(gt.annotationsOf(0)[1]).counts).toEqual(Uint32Array.from([48, 4, 4, 4, 20]));
    expect(() => gt.image(99)).toThrow(/no image with id 99/);
  });

  it.each([
    ['truncated JSON', () => '{"images": [', /gt\.json: not valid JSON/],
    [
      'a missing field',
      (g: LooseGt) => {
        delete g.annotations[0].area;
      },
      /annotations\[0\] \(id 1\): missing field "area"/,
    ],
    [
      'an ill-typed field',
      (g: LooseGt) => {
        (g.images[1] as { width: unknown }).width = '6';
      },
      /images\[1\] \(id 7\): field "width" must be a finite number, got the string "6"/,
    ],
    [
      'a negative size',
      (g: LooseGt) => {
        g.images[0].height = -8;
      },
      /images\[0\] \(id 0\): field "height" must not be negative/,
    ],
    [
      'a negative box size',
      (g: LooseGt) => {
        g.annotations[2].bbox = [0, 0, -3, 3];
      },
      /id 3\): field "bbox" has a negative width/,
    ],
    [
      'an unknown image',
      (g: LooseGt) => {
        g.annotations[2].image_id = 8;
      },
      /annotation id 3: field "image_id" refers to unknown image 8/,
    ],
    [
      'an unknown category',
      (g: LooseGt) => {
        g.annotations[0].category_id = 2;
      },
      /annotation id 1: field "category_id" refers to unknown category 2/,
    ],
    [
      'boxes mixed with polygons',
      (g: LooseGt) => {
        g.annotations[0].segmentation = [
          [1, 1, 4, 4],
          [1, 1, 5, 5, 1, 5],
        ];
      },
      /annotation id 1: field "segmentation": polygon 0 has 4 numbers, so all are read as boxes, but 1 has 6/,
    ],
    [
      'a short polygon',
      (g: LooseGt) => {
        g.annotations[2].segmentation = [
          [0, 0, 3, 0, 3, 3],
          [0, 0, 1, 1],
        ];
      },
      /annotation id 3: field "segmentation": polygon 1 has 2 points, expected at least 3/,
    ],
    [
      'a bad RLE string',
      (g: LooseGt) => {
        g.annotations[1].segmentation = { size: [8, 10], counts: 'ab c' };
      },
      /annotation id 2: field "segmentation": bad RLE: counts string has the character " "/,
    ],
    [
      'RLE counts of the wrong total',
      (g: LooseGt) => {
        g.annotations[1].segmentation = { size: [8, 10], counts: [48, 4] };
      },
      /annotation id 2: field "segmentation": bad RLE: counts sum to 52, but size 8x10 has 80/,
    ],
    [
      'a duplicate id',
      (g: LooseGt) => {
        g.annotations[1].id = 1;
      },
      /annotations: id 1 appears more than once/,
    ],
    ['a non-object file', () => [1, 2], /gt\.json: must be a JSON object, got an array/],
  ])('rejects %s', (_, mutate, message) => {
    expect(loadError(mutate as (g: LooseGt) => unknown).message).toMatch(message);
  });
});

describe('segmentation and RLE validation', () => {
  it('rejects a truncated counts string and a negative size', () => {
    expect(() => rleFromCocoJson({ size: [4, 4], counts: '0P' })).toThrow(/ends inside a run length/);
    expect(() => rleFromCocoJson({ size: [-4, 4], counts: '' })).toThrow(/non-negative integers/);
    expect(() => rleFromSegmentation('oops', 4, 4, 'x')).toThrow(
      /x: must be a list of polygons or an RLE object/,
    );
  });
});

describe('evaluate() input checks', () => {
  const gt = CocoDataset.fromJson(tinyGt(), 'gt.json');
  const ok = { image_id: 0, category_id: 3, bbox: [1, 1, 4, 4], score: 0.9 };
  it.each([
    [
      'an image not in the ground truth',
      [{ ...ok, image_id: 5 }],
      /result \[0\]: field "image_id" refers to image 5/,
    ],
    [
      'a missing score',
      [{ image_id: 0, category_id: 3, bbox: [1, 1, 4, 4] }],
      /result \[0\]: missing field "score"/,
    ],
    [
      'a bad RLE',
      [{ image_id: 0, category_id: 3, segmentation: { size: [8, 10], counts: '~~' }, score: 1 }],
      /result \[0\]: field "segmentation": bad RLE/,
    ],
    ['not a list', { results: [] }, /results: must be a JSON list of results/],
  ])('rejects %s', (_, results, message) => {
    expect(() => evaluate(gt, results, { iouType: 'segm' })).toThrow(message);
  });

  it('rejects fewer than 3 maxDets', () => {
    expect(() => evaluate(gt, [ok], { iouType: 'bbox', maxDets: [1, 10] })).toThrow(/at least 3/);
  });

  it('scores a perfect box and an empty result set by hand', () => {
    const perfect = evaluate(gt, [ok, { image_id: 7, category_id: 1, bbox: [0, 0, 3, 3], score: 0.5 }], {
      iouType: 'bbox',
    });
    // every non-crowd gt found at every IoU: AP = AR = 1; the crowd gt (category 1, image 0) is ignored
    // precision is tp / (tp + fp + eps), as in COCOeval
    expect(perfect.stats[0]).toBeCloseTo(1, 14);
    expect(perfect.stats[8]).toBe(1);
    expect(perfect.perImage.map((e) => [e.imageId, e.categoryId])).toEqual([
      [0, 1],
      [0, 3],
      [7, 1],
    ]);
    const none = evaluate(gt, [], { iouType: 'segm' });
    expect(none.stats.slice(0, 3)).toEqual([0, 0, 0]);
  });
});
