import { TrainerError, UsageError } from './errors.js';
import { COMMANDS, DEMO, EVAL, INFER, SUMMARY, TRAIN } from './flags.js';
import { type CommandSpec, type FlagValues, formatHelp, parseCommand } from './options.js';

export interface CommandIo {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WriteStream;
}

type CommandRun = (values: FlagValues, positionals: string[], io: CommandIo) => Promise<number>;

// Loaded on use, so that `--help` and argument errors come back without loading tfjs and the packages.
const RUNNERS = new Map<CommandSpec, () => Promise<CommandRun>>([
  [DEMO, async () => (await import('./commands/demo.js')).demoCommand],
  [TRAIN, async () => (await import('./commands/train.js')).trainCommand],
  [EVAL, async () => (await import('./commands/eval.js')).evalCommand],
  [INFER, async () => (await import('./commands/infer.js')).inferCommand],
  [SUMMARY, async () => (await import('./commands/summary.js')).summaryCommand],
]);

function topLevelHelp(): string {
  const lines = [
    'deepmask: train, evaluate and run DeepMask object proposals',
    '',
    'Usage: deepmask <command> [options]',
    '',
    'Commands:',
  ];
  for (const command of COMMANDS) lines.push(`  ${command.name.padEnd(9)} ${command.summary}`);
  lines.push('', "Run 'deepmask <command> --help' for a command's options.");
  return lines.join('\n');
}

/** Runs the CLI on `argv` (without node and the script) and returns the exit code; never throws. */
export async function main(
  argv: string[],
  io: CommandIo = { stdout: process.stdout, stderr: process.stderr },
): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    io.stdout.write(`${topLevelHelp()}\n`);
    return name === undefined ? 2 : 0;
  }
  const command = COMMANDS.find((c) => c.name === name);
  if (command === undefined) {
    io.stderr.write(
      `deepmask: unknown command '${name}'; expected one of ${COMMANDS.map((c) => c.name).join(', ')}\n`,
    );
    return 2;
  }
  try {
    const parsed = parseCommand(command, rest);
    if (parsed.help) {
      io.stdout.write(`${formatHelp(command)}\n`);
      return 0;
    }
    const run = await RUNNERS.get(command)!();
    return await run(parsed.values, parsed.positionals, io);
  } catch (error) {
    if (error instanceof UsageError) {
      io.stderr.write(`deepmask ${name}: ${error.message}\nRun 'deepmask ${name} --help' for usage.\n`);
      return 2;
    }
    if (error instanceof TrainerError) {
      io.stderr.write(`deepmask ${name}: ${error.message}\n`);
      return 1;
    }
    const detail = process.env.DEEPMASK_DEBUG ? (error as Error).stack : (error as Error).message;
    io.stderr.write(
      `deepmask ${name}: ${detail ?? String(error)}\n(set DEEPMASK_DEBUG=1 for a stack trace)\n`,
    );
    return 1;
  }
}
