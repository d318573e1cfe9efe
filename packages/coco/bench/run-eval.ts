import { readFileSync } from 'node:fs';
import { resourceUsage } from 'node:process';
import { CocoDataset, evaluate, type IouType } from '../src/index.js';

/**
 * One timed evaluation in a fresh process, so peak memory is its own:
 * node run-eval.js GT.json RESULTS.json segm|bbox -> one JSON line.
 */
const [gtPath, dtPath, iouType] = process.argv.slice(2) as [string, string, IouType];
const gtText = readFileSync(gtPath, 'utf8');
const dtText = readFileSync(dtPath, 'utf8');
const start = performance.now();
const gt = CocoDataset.fromJson(gtText, gtPath);
const loaded = performance.now();
const result = evaluate(gt, JSON.parse(dtText), { iouType, useCats: false });
const end = performance.now();
process.stdout.write(
  `${JSON.stringify({
    iouType,
    wallS: (end - start) / 1000,
    gtLoadS: (loaded - start) / 1000,
    maxRssMiB: resourceUsage().maxRSS / 1024,
    stats: result.stats,
    extra: result.extra,
  })}\n`,
);
