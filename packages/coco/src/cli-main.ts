import { CocoDataset } from './dataset.js';
import { CocoFormatError } from './errors.js';
import { evaluate } from './evaluate.js';
import type { IouType } from './params.js';
import { formatTable } from './table.js';

export interface CliIo {
  readFile(path: string): string;
  stdout(text: string): void;
  stderr(text: string): void;
}

export const USAGE = `usage: coco-eval --gt GT.json --dt RESULTS.json --iou-type segm|bbox [--proposals] [--max-dets 1,10,100,1000] [--table]

Evaluates COCO results as pycocotools' COCOeval does and prints one JSON object:
  {"stats": [12 numbers in COCOeval.summarize order], "extra": {"AR@N", "AR_small@N", "AR_medium@N", "AR_large@N", "AP@N" for every N}}
  --proposals   class-agnostic proposal scoring (useCats = 0), maxDets 1,10,100,1000 unless --max-dets is given
  --max-dets    comma-separated maxDets (at least 3)
  --table       print a human-readable table instead of JSON
`;

class UsageError extends Error {}

interface CliOptions {
  gt: string;
  dt: string;
  iouType: IouType;
  proposals: boolean;
  maxDets?: number[];
  table: boolean;
}

function parseArgs(argv: readonly string[]): CliOptions | 'help' {
  const values = new Map<string, string>();
  const flags = new Set<string>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--help' || arg === '-h') return 'help';
    if (arg === '--proposals' || arg === '--table') {
      flags.add(arg);
      continue;
    }
    const [name, inline] = arg.split(/=(.*)/s, 2);
    if (!['--gt', '--dt', '--iou-type', '--max-dets'].includes(name))
      throw new UsageError(`unknown argument ${JSON.stringify(arg)}`);
    const value = inline ?? argv[++i];
    if (value === undefined || value === '') throw new UsageError(`${name} needs a value`);
    values.set(name, value);
  }
  const gt = values.get('--gt');
  const dt = values.get('--dt');
  const iouType = values.get('--iou-type');
  if (!gt) throw new UsageError('--gt GT.json is required');
  if (!dt) throw new UsageError('--dt RESULTS.json is required');
  if (iouType !== 'segm' && iouType !== 'bbox') throw new UsageError('--iou-type must be segm or bbox');
  const maxDetsText = values.get('--max-dets');
  let maxDets: number[] | undefined;
  if (maxDetsText !== undefined) {
    maxDets = maxDetsText.split(',').map((s) => Number(s.trim()));
    if (maxDets.length < 3 || maxDets.some((m) => !Number.isInteger(m) || m < 1)) {
      throw new UsageError(
        `--max-dets must be at least 3 positive integers separated by commas, got ${JSON.stringify(maxDetsText)}`,
      );
    }
  }
  return { gt, dt, iouType, proposals: flags.has('--proposals'), maxDets, table: flags.has('--table') };
}

function read(io: CliIo, flag: string, file: string): string {
  try {
    return io.readFile(file);
  } catch (error) {
    throw new CocoFormatError(file, `cannot read the ${flag} file (${(error as Error).message})`);
  }
}

/** The coco-eval command; returns the exit status (0 ok, 1 bad input, 2 bad usage). */
export function main(argv: readonly string[], io: CliIo): number {
  try {
    const options = parseArgs(argv);
    if (options === 'help') {
      io.stdout(USAGE);
      return 0;
    }
    const gt = CocoDataset.fromJson(read(io, '--gt', options.gt), options.gt);
    const result = evaluate(gt, read(io, '--dt', options.dt), {
      iouType: options.iouType,
      useCats: !options.proposals,
      maxDets: options.maxDets,
      perImage: false,
      resultsName: options.dt,
    });
    io.stdout(
      options.table
        ? formatTable(result)
        : `${JSON.stringify({ stats: result.stats, extra: result.extra })}\n`,
    );
    return 0;
  } catch (error) {
    if (error instanceof UsageError) {
      io.stderr(`coco-eval: ${error.message}\n${USAGE}`);
      return 2;
    }
    if (error instanceof CocoFormatError || error instanceof RangeError) {
      io.stderr(`coco-eval: error: ${error.message}\n`);
      return 1;
    }
    io.stderr(`coco-eval: internal error: ${(error as Error)?.message ?? String(error)}\n`);
    return 70;
  }
}
