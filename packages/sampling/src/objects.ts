import { type CocoAnnotation, type CocoDataset, rleArea } from '@deepmask/coco';
import type { ObjectChoice, SamplingConfig } from './config.js';
import type { Random } from './random.js';
import type { SamplingWarning } from './types.js';

/** The objects that may be centred in a positive, by the code's rules, grouped by category. */
export class PositiveObjects {
  readonly all: CocoAnnotation[] = [];
  private readonly byCategory = new Map<number, CocoAnnotation[]>();

  constructor(
    dataset: CocoDataset,
    rules: Pick<SamplingConfig, 'minObjectArea' | 'minBoxSidePx'>,
    warn: (warning: SamplingWarning) => void,
  ) {
    for (const image of dataset.images) {
      for (const annotation of dataset.annotationsOf(image.id)) {
        const [, , width, height] = annotation.bbox;
        if (annotation.iscrowd === 1 || annotation.area < rules.minObjectArea) continue;
        if (Math.min(width, height) < rules.minBoxSidePx) continue;
        const problem = maskProblem(dataset, annotation, image.width, image.height);
        if (problem !== null) {
          const message = `sampling: annotation id ${annotation.id} (image id ${image.id}) ${problem}; not used as a positive`;
          warn({ kind: 'unusable-annotation', message, annotationId: annotation.id });
          continue;
        }
        this.all.push(annotation);
        const group = this.byCategory.get(annotation.category_id);
        if (group === undefined) this.byCategory.set(annotation.category_id, [annotation]);
        else group.push(annotation);
      }
    }
  }

  /** One object: uniformly, or a category uniformly and then an object of it (the official code). */
  choose(choice: ObjectChoice, random: Random): CocoAnnotation {
    if (this.all.length === 0) {
      throw new Error(
        'sampling: no annotation qualifies as a positive (non-crowd, area and box side large enough)',
      );
    }
    if (choice === 'uniform') return this.all[random.int(this.all.length)];
    const groups = [...this.byCategory.values()];
    const group = groups[random.int(groups.length)];
    return group[random.int(group.length)];
  }
}

function maskProblem(
  dataset: CocoDataset,
  annotation: CocoAnnotation,
  width: number,
  height: number,
): string | null {
  let rle: ReturnType<CocoDataset['annotationRle']>;
  try {
    rle = dataset.annotationRle(annotation);
  } catch (error) {
    return `has no usable mask (${(error as Error).message})`;
  }
  if (rle.size[0] !== height || rle.size[1] !== width) {
    return `has a mask of ${rle.size[1]}x${rle.size[0]} on an image of ${width}x${height}`;
  }
  if (rleArea(rle) === 0) return 'has an empty mask';
  return null;
}
