// Command-line arguments: node:util's parseArgs (strict: an unknown option is an error), behind
// the small interface every subcommand uses.

import { parseArgs as parseNodeArgs } from 'node:util';

export class UsageError extends Error {
  override name = 'UsageError';
}

export interface ParsedArgs {
  readonly flags: Map<string, string | true>;
  readonly positionals: string[];
}

/** The one-letter forms, the same in every subcommand. */
const SHORT: Record<string, string> = { help: 'h', recursive: 'r' };

/**
 * `valued` lists the options that take a value; `boolean` the ones that do not (`-h` is `--help`, `-r` `--recursive`).
 * Anything else, a missing value, or a value given to a boolean option is a {@link UsageError}.
 * `-` is a positional (standard input); everything after `--` is positional.
 */
export function parseArgs(argv: readonly string[], valued: readonly string[], boolean: readonly string[]): ParsedArgs {
  const options: Record<string, { type: 'string' | 'boolean'; short?: string }> = {};
  for (const name of valued) options[name] = { type: 'string' };
  for (const name of boolean) options[name] = { type: 'boolean', ...(name in SHORT ? { short: SHORT[name] } : {}) };
  let parsed;
  try {
    parsed = parseNodeArgs({ args: [...argv], options, allowPositionals: true, strict: true });
  } catch (e) {
    // node:util says e.g. "Unknown option '--x'. To specify a positional argument starting with a '-', ..."
    throw new UsageError((e as Error).message.replace(/\. To specify a positional.*$/s, ''));
  }
  const flags = new Map<string, string | true>();
  for (const [name, value] of Object.entries(parsed.values)) {
    if (value === undefined || value === false) continue;
    flags.set(name, typeof value === 'string' ? value : true);
  }
  return { flags, positionals: parsed.positionals };
}

/**
 * What a command prints on stderr for a usage error: the error, then the help's usage lines (up to
 * its first blank line) and where the options are, rather than the whole help, whose first line
 * (the error) would scroll away on a terminal.
 */
export function usageErrorText(command: string, error: UsageError, help: string): string {
  const usage = help.split('\n\n')[0]!;
  return `squeezenet ${command}: ${error.message}\n\n${usage}\nRun \`squeezenet ${command} --help\` for the options.\n`;
}

export function intFlag(args: ParsedArgs, name: string, fallback: number, min = 1): number {
  const v = args.flags.get(name);
  if (v === undefined) return fallback;
  const n = Number(v);
  if (v === true || !Number.isInteger(n) || n < min) throw new UsageError(`--${name} must be an integer >= ${min}, got ${String(v)}`);
  return n;
}
