import type { EvaluationResult } from './evaluate.js';

/** COCOeval.summarize's printout, then AR and AR by size at every maxDet. */
export function formatTable(result: EvaluationResult): string {
  const { maxDets, iouType } = result.params;
  const [m0, m1, m2] = maxDets;
  const rows: [string, string, string, number][] = [
    ['Average Precision  (AP)', '0.50:0.95', 'all', 100],
    ['Average Precision  (AP)', '0.50', 'all', m2],
    ['Average Precision  (AP)', '0.75', 'all', m2],
    ['Average Precision  (AP)', '0.50:0.95', 'small', m2],
    ['Average Precision  (AP)', '0.50:0.95', 'medium', m2],
    ['Average Precision  (AP)', '0.50:0.95', 'large', m2],
    ['Average Recall     (AR)', '0.50:0.95', 'all', m0],
    ['Average Recall     (AR)', '0.50:0.95', 'all', m1],
    ['Average Recall     (AR)', '0.50:0.95', 'all', m2],
    ['Average Recall     (AR)', '0.50:0.95', 'small', m2],
    ['Average Recall     (AR)', '0.50:0.95', 'medium', m2],
    ['Average Recall     (AR)', '0.50:0.95', 'large', m2],
  ];
  const mode = result.params.useCats ? 'per category' : 'class-agnostic (proposals)';
  const lines = [`COCO ${iouType} evaluation, ${mode}, ${result.params.imgIds.length} images`];
  rows.forEach(([title, iou, area, maxDet], i) => {
    lines.push(
      ` ${title} @[ IoU=${iou.padEnd(9)} | area=${area.padStart(6)} | maxDets=${String(maxDet).padStart(4)} ] = ${result.stats[i].toFixed(3)}`,
    );
  });
  lines.push(
    '',
    `${'maxDets'.padStart(8)}  ${['AR', 'AR_small', 'AR_medium', 'AR_large', 'AP'].map((h) => h.padStart(9)).join(' ')}`,
  );
  for (const n of maxDets) {
    const cells = ['AR', 'AR_small', 'AR_medium', 'AR_large', 'AP'].map((k) =>
      result.extra[`${k}@${n}`].toFixed(3).padStart(9),
    );
    lines.push(`${String(n).padStart(8)}  ${cells.join(' ')}`);
  }
  return `${lines.join('\n')}\n`;
}
