import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { type BackendName, selectBackend } from '../backend.js';
import { loadCocoData } from '../coco-data.js';
import { evaluateModel, formatArTable } from '../evaluation.js';
import type { CommandIo } from '../main.js';
import { openModel } from '../model-path.js';
import type { FlagValues } from '../options.js';
import { ProgressReporter } from '../progress.js';
import { runPaths } from '../run-folder.js';

export async function evalCommand(
  values: FlagValues,
  _positionals: string[],
  io: CommandIo,
): Promise<number> {
  const data = await loadCocoData(values.data as string, values.ann as string);
  await selectBackend(values.backend as BackendName);
  const { model, runDir } = await openModel(values.model as string);
  const maxImages = values['max-images'] as number | undefined;
  const imageIds = data.json.images.slice(0, maxImages).map((image) => image.id);
  const progress = new ProgressReporter(io.stderr);
  const report = await evaluateModel(model, data, imageIds, {
    topN: values['top-n'] as number,
    onImage: (done, total) => progress.count('pyramid inference: image', done, total),
  });
  model.dispose();
  const resultsPath =
    (values.results as string | undefined) ??
    (runDir === undefined ? undefined : join(runPaths(runDir).eval, 'results.json'));
  if (resultsPath !== undefined) {
    await mkdir(dirname(resultsPath), { recursive: true });
    await writeFile(resultsPath, JSON.stringify(report.results));
  }
  if (values.json) {
    io.stdout.write(`${JSON.stringify({ segm: report.segm, bbox: report.bbox })}\n`);
  } else {
    io.stdout.write(
      `${report.images} images, ${report.results.length} proposals, ${report.msPerImage.toFixed(0)} ms/image\n` +
        `${formatArTable([{ name: 'model', segm: report.segm, bbox: report.bbox }])}\n` +
        (resultsPath === undefined ? '' : `results: ${resultsPath}\n`),
    );
  }
  return 0;
}
