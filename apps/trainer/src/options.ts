import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { UsageError } from './errors.js';

/** One command-line flag; the same key is accepted in a `--config` JSON file. */
export interface FlagSpec {
  type: 'string' | 'number' | 'integer' | 'boolean';
  help: string;
  default?: string | number | boolean;
  choices?: readonly string[];
  required?: boolean;
  /** Lower bound for numbers (inclusive). */
  min?: number;
  short?: string;
}

export type FlagSpecs = Record<string, FlagSpec>;
export type FlagValues = Record<string, string | number | boolean | undefined>;

export interface CommandSpec {
  name: string;
  summary: string;
  usage: string;
  flags: FlagSpecs;
  /** Name of the positional arguments in the usage line, or undefined when none are accepted. */
  positionals?: string;
}

export interface ParsedCommand {
  values: FlagValues;
  positionals: string[];
  help: boolean;
}

const GLOBAL_FLAGS: FlagSpecs = {
  config: { type: 'string', help: 'JSON file whose keys are flag names (command-line flags win)' },
  help: { type: 'boolean', short: 'h', help: 'show this help' },
};

/** Parses `argv` (without the command name) for `command`, merging `--config FILE` under the flags. */
export function parseCommand(command: CommandSpec, argv: string[]): ParsedCommand {
  const flags = { ...command.flags, ...GLOBAL_FLAGS };
  const options: Record<string, { type: 'string' | 'boolean'; short?: string }> = {};
  for (const [name, spec] of Object.entries(flags)) {
    options[name] = {
      type: spec.type === 'boolean' ? 'boolean' : 'string',
      ...(spec.short ? { short: spec.short } : {}),
    };
  }
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({ args: argv, options, allowPositionals: true, strict: true, allowNegative: true });
  } catch (error) {
    throw new UsageError(`${(error as Error).message.replace(/\. To specify a positional.*$/s, '')}`);
  }
  if (parsed.values.help) return { values: {}, positionals: [], help: true };
  if (command.positionals === undefined && parsed.positionals.length > 0) {
    throw new UsageError(`unexpected argument '${parsed.positionals[0]}'`);
  }
  const fromFile = typeof parsed.values.config === 'string' ? readConfigFile(parsed.values.config) : {};
  const values: FlagValues = {};
  for (const [name, spec] of Object.entries(command.flags)) {
    const raw = parsed.values[name] ?? fromFile[name];
    values[name] = raw === undefined ? spec.default : coerceFlag(name, spec, raw);
    if (spec.required && values[name] === undefined) throw new UsageError(`missing required flag --${name}`);
  }
  for (const key of Object.keys(fromFile)) {
    if (!(key in command.flags)) {
      throw new UsageError(`config file: unknown key '${key}' for '${command.name}' (see --help)`);
    }
  }
  return { values, positionals: parsed.positionals, help: false };
}

function readConfigFile(path: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new UsageError(
      `--config: cannot read '${path}': ${(error as NodeJS.ErrnoException).code ?? error}`,
    );
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new UsageError(`--config: '${path}' is not valid JSON: ${(error as Error).message}`);
  }
  if (json === null || typeof json !== 'object' || Array.isArray(json)) {
    throw new UsageError(`--config: '${path}' must hold a JSON object whose keys are flag names`);
  }
  return json as Record<string, unknown>;
}

function coerceFlag(name: string, spec: FlagSpec, raw: unknown): string | number | boolean {
  if (spec.type === 'boolean') {
    if (typeof raw !== 'boolean')
      throw new UsageError(`--${name}: expected true or false, got ${JSON.stringify(raw)}`);
    return raw;
  }
  if (typeof raw !== 'string' && typeof raw !== 'number') {
    throw new UsageError(`--${name}: expected a ${spec.type}, got ${JSON.stringify(raw)}`);
  }
  if (spec.type === 'string') {
    const value = String(raw);
    if (spec.choices && !spec.choices.includes(value)) {
      throw new UsageError(`--${name}: '${value}' is not one of ${spec.choices.join(', ')}`);
    }
    return value;
  }
  const value = typeof raw === 'number' ? raw : raw.trim() === '' ? Number.NaN : Number(raw);
  if (!Number.isFinite(value) || (spec.type === 'integer' && !Number.isInteger(value))) {
    throw new UsageError(
      `--${name}: expected ${spec.type === 'integer' ? 'an integer' : 'a number'}, got '${raw}'`,
    );
  }
  if (spec.min !== undefined && value < spec.min) {
    throw new UsageError(`--${name}: must be at least ${spec.min}, got ${value}`);
  }
  return value;
}

/** The `--help` text of a command, generated from its flag specs. */
export function formatHelp(command: CommandSpec): string {
  const flags = { ...command.flags, ...GLOBAL_FLAGS };
  const lines = [`${command.summary}`, '', `Usage: ${command.usage}`, '', 'Options:'];
  for (const [name, spec] of Object.entries(flags)) {
    const value = spec.type === 'boolean' ? '' : ` <${spec.choices ? spec.choices.join('|') : spec.type}>`;
    const left = `  ${spec.short ? `-${spec.short}, ` : ''}--${name}${value}`;
    const notes = [
      spec.required ? 'required' : undefined,
      spec.default !== undefined ? `default ${spec.default}` : undefined,
    ]
      .filter(Boolean)
      .join(', ');
    const help = `${spec.help}${notes ? ` (${notes})` : ''}`;
    lines.push(left.length < 34 ? `${left.padEnd(34)} ${help}` : `${left}\n${''.padEnd(35)}${help}`);
  }
  return lines.join('\n');
}
