// A small argument parser: `--flag value`, `--flag=value`, boolean flags, positionals.

export class UsageError extends Error {
  override name = 'UsageError';
}

export interface ParsedArgs {
  readonly flags: Map<string, string | true>;
  readonly positionals: string[];
}

/** `valued` lists the flags that take a value; `boolean` the ones that do not. Anything else is an error. */
export function parseArgs(argv: readonly string[], valued: readonly string[], boolean: readonly string[]): ParsedArgs {
  const flags = new Map<string, string | true>();
  const positionals: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--') {
      positionals.push(...argv.slice(i + 1));
      break;
    }
    if (arg.startsWith('-') && arg !== '-') {
      const eq = arg.indexOf('=');
      const name = (eq >= 0 ? arg.slice(0, eq) : arg).replace(/^-+/, '');
      const key = name === 'h' ? 'help' : name;
      if (boolean.includes(key)) {
        if (eq >= 0) throw new UsageError(`--${key} takes no value`);
        flags.set(key, true);
      } else if (valued.includes(key)) {
        const value = eq >= 0 ? arg.slice(eq + 1) : argv[++i];
        if (value === undefined) throw new UsageError(`--${key} needs a value`);
        flags.set(key, value);
      } else {
        throw new UsageError(`unknown option ${arg}`);
      }
    } else {
      positionals.push(arg);
    }
  }
  return { flags, positionals };
}

export function intFlag(args: ParsedArgs, name: string, fallback: number, min = 1): number {
  const v = args.flags.get(name);
  if (v === undefined) return fallback;
  const n = Number(v);
  if (v === true || !Number.isInteger(n) || n < min) throw new UsageError(`--${name} must be an integer >= ${min}, got ${String(v)}`);
  return n;
}
