import { relative } from 'node:path';
import { type BackendName, replicasFor, selectBackend } from '../backend.js';
import { runDemo } from '../demo.js';
import { formatArTable, summarizeAr } from '../evaluation.js';
import type { CommandIo } from '../main.js';
import type { FlagValues } from '../options.js';
import { formatDuration, ProgressReporter } from '../progress.js';
import { EXIT_INTERRUPTED, optimisationOptions, withInterrupt } from './train.js';

export async function demoCommand(
  values: FlagValues,
  _positionals: string[],
  io: CommandIo,
): Promise<number> {
  const started = performance.now();
  const out =
    (values.out as string | undefined) ??
    `runs/demo-${new Date().toISOString().slice(0, 19).replace(/[-:]/g, '').replace('T', '-')}`;
  const backend = values.backend as BackendName;
  const replicas = replicasFor(backend, values.replicas as number);
  await selectBackend(backend);
  const progress = new ProgressReporter(io.stderr);
  const result = await withInterrupt(progress, (interrupt) =>
    runDemo(
      {
        out,
        minutes: values.minutes as number,
        maxSteps: values['max-steps'] as number | undefined,
        trainImages: values['train-images'] as number,
        valImages: values['val-images'] as number,
        ...optimisationOptions(values),
        replicas,
        samplerThreads: values['sampler-threads'] as number,
        compareUntrained: true,
      },
      { progress, interrupt },
    ),
  );
  const { paths, training, untrained, trained } = result;
  const rows = [...(untrained ? [{ name: 'untrained', ...untrained }] : []), { name: 'trained', ...trained }];
  const show = (p: string) => {
    const path = relative(process.cwd(), p);
    return path.startsWith('..') ? p : path || '.';
  };
  const before = untrained ? summarizeAr(untrained.segm)['AR@100'] : Number.NaN;
  const after = summarizeAr(trained.segm)['AR@100'];
  io.stdout.write(
    [
      '',
      `DeepMask demo: ${training.state.step} steps of the tiny model in ${formatDuration(training.state.elapsedSec)} ` +
        `(${formatDuration((performance.now() - started) / 1000)} in all); class-agnostic COCO AR on ` +
        `${values['val-images']} synthetic validation images:`,
      '',
      formatArTable(rows),
      '',
      `segm AR@100: ${before.toFixed(3)} untrained -> ${after.toFixed(3)} trained`,
      '',
      `run folder ${show(paths.root)}:`,
      `  model          ${show(paths.model)}/model.json (+ .bin shards)`,
      `  metrics        ${show(paths.metrics)}`,
      `  overlay        ${show(result.overlayPng)}`,
      `  proposals      ${show(result.proposalsJson)}`,
      `  synthetic data ${show(result.dataDir)} (COCO format)`,
      '',
      'To look at it in the browser: run `pnpm viewer` at the repository root, open the printed URL, choose',
      `${show(paths.model)}/model.json with its .bin shards as the model, an image from ${show(result.dataDir)}/val,`,
      `and ${show(paths.metrics)} under "Run metrics".`,
      '',
    ].join('\n'),
  );
  return training.reason === 'interrupted' ? EXIT_INTERRUPTED : 0;
}
