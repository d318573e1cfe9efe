import { readFileSync } from 'node:fs';
import { cpuUsage, resourceUsage } from 'node:process';
import { CocoDataset, evaluate, type IouType } from '../src/index.js';

/**
 * One timed evaluation in a fresh process, so peak memory is its own:
 * node run-eval.js GT.json RESULTS.json segm|bbox -> one JSON line.
 * `evaluateS`: ground truth + results (already parsed objects, as the trainer hands them over) through
 * loadRes, evaluate, accumulate and summarize. `readParseS`: reading and parsing the results file first.
 */
const [gtPath, dtPath, iouType] = process.argv.slice(2) as [string, string, IouType];
const gtText = readFileSync(gtPath, 'utf8');
const cpuSeconds = (since: NodeJS.CpuUsage) => {
  const used = cpuUsage(since);
  return (used.user + used.system) / 1e6;
};

let cpu = cpuUsage();
let start = performance.now();
const results = JSON.parse(readFileSync(dtPath, 'utf8'));
const readParseS = (performance.now() - start) / 1000;
const readParseCpuS = cpuSeconds(cpu);

cpu = cpuUsage();
start = performance.now();
const gt = CocoDataset.fromJson(gtText, gtPath);
const result = evaluate(gt, results, { iouType, useCats: false });
const evaluateS = (performance.now() - start) / 1000;
const evaluateCpuS = cpuSeconds(cpu);

process.stdout.write(
  `${JSON.stringify({
    iouType,
    evaluateS,
    evaluateCpuS,
    readParseS,
    readParseCpuS,
    maxRssMiB: resourceUsage().maxRSS / 1024,
    stats: result.stats,
    extra: result.extra,
  })}\n`,
);
