import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { CocoDataset } from '../src/index.js';
import { makeProposals } from './proposals.js';

/**
 * Class-agnostic evaluation of 1000 segm proposals per image on coco-mini val (128 images), segm and bbox,
 * each timed in a fresh process (JSON parse + load + evaluate + accumulate + summarize).
 */
const PER_IMAGE = 1000;
const REPEATS = 3;
// The figures for pycocotools on this 2-core machine; pycocotools cannot be installed here.
const PYCOCOTOOLS_S = { segm: 15, bbox: 13 } as const;

const here = path.dirname(fileURLToPath(import.meta.url));
const shared = process.env.DEEPMASK_SHARED ?? path.resolve(here, '../../../../../../shared');
const gtPath = path.join(shared, 'data/coco-mini/annotations/instances_val2017.json');
const gt = CocoDataset.fromJson(readFileSync(gtPath, 'utf8'), gtPath);
const proposals = makeProposals(gt, PER_IMAGE, 2015);
const dir = mkdtempSync(path.join(os.tmpdir(), 'coco-bench-'));

interface Run {
  iouType: 'segm' | 'bbox';
  evaluateS: number;
  evaluateCpuS: number;
  readParseS: number;
  readParseCpuS: number;
  maxRssMiB: number;
  stats: number[];
  extra: Record<string, number>;
}

const runs: Record<string, Run[]> = { segm: [], bbox: [] };
try {
  for (const iouType of ['segm', 'bbox'] as const) {
    const dtPath = path.join(dir, `${iouType}.json`);
    writeFileSync(dtPath, JSON.stringify(proposals[iouType]));
    for (let r = 0; r < REPEATS; r++) {
      const line = execFileSync(process.execPath, [path.join(here, 'run-eval.js'), gtPath, dtPath, iouType], {
        encoding: 'utf8',
        maxBuffer: 1 << 24,
      });
      runs[iouType].push(JSON.parse(line));
    }
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
const rows = (['segm', 'bbox'] as const).map((iouType) => {
  const r = runs[iouType];
  const evaluateS = median(r.map((x) => x.evaluateS));
  const endToEndS = median(r.map((x) => x.evaluateS + x.readParseS));
  return {
    iouType,
    evaluateS,
    evaluateCpuS: median(r.map((x) => x.evaluateCpuS)),
    endToEndS,
    peakRssMiB: Math.max(...r.map((x) => x.maxRssMiB)),
    pycocotoolsS: PYCOCOTOOLS_S[iouType],
    speedup: PYCOCOTOOLS_S[iouType] / evaluateS,
    speedupEndToEnd: PYCOCOTOOLS_S[iouType] / endToEndS,
    identicalRuns: r.every((x) => JSON.stringify(x.stats) === JSON.stringify(r[0].stats)),
    ar100: r[0].extra['AR@100'],
    ar1000: r[0].extra['AR@1000'],
  };
});

const f = (v: number, width: number, digits = 2) => v.toFixed(digits).padStart(width);
console.log(
  `coco-eval proposals: ${gt.images.length} images x ${PER_IMAGE} proposals, useCats=0, maxDets 1,10,100,1000`,
);
console.log(
  `machine: ${os.cpus().length} x ${os.cpus()[0]?.model ?? 'cpu'}, node ${process.version}, load average ${os
    .loadavg()
    .map((l) => l.toFixed(1))
    .join(' ')}; median of ${REPEATS} fresh processes`,
);
console.log(
  'iouType  evaluate s  (cpu s)  +read&parse s  peak RSS MiB  pycocotools s*  speedup*  (end to end)  AR@100  AR@1000',
);
for (const row of rows) {
  console.log(
    `${row.iouType.padEnd(7)}  ${f(row.evaluateS, 10)}  ${f(row.evaluateCpuS, 7)}  ${f(row.endToEndS, 13)}  ${f(row.peakRssMiB, 12, 0)}  ${f(row.pycocotoolsS, 14, 0)}  ${f(row.speedup, 7, 1)}x  ${f(row.speedupEndToEnd, 11, 1)}x  ${row.ar100.toFixed(3)}   ${row.ar1000.toFixed(3)}`,
  );
}
console.log(
  "* pycocotools: the issue's reference figures for this machine (15 s segm, 13 s bbox), not measured here (no PyPI).",
);
console.log(
  '  evaluate = load gt + loadRes + evaluate + accumulate + summarize from parsed results; end to end adds reading and parsing the results file.',
);
console.log(
  JSON.stringify({
    bench: 'coco-eval-proposals',
    images: gt.images.length,
    perImage: PER_IMAGE,
    loadAverage: os.loadavg()[0],
    results: rows,
  }),
);
