/**
 * A small argparse look-alike for the stand-in's subcommands: `--name value`, `--name=value`,
 * `nargs='+'` options that take every following word up to the next option, store_true
 * flags, and positionals. Errors use argparse's wording and exit code 2.
 */

export interface OptionSpec {
  readonly kind: 'one' | 'many' | 'flag';
  /** argparse's metavar in the usage line. */
  readonly metavar?: string;
}

export interface ParsedArgs {
  readonly options: Map<string, string[] | true>;
  readonly positionals: string[];
}

export class ArgError extends Error {}

export function parseArgv(argv: readonly string[], specs: Readonly<Record<string, OptionSpec>>): ParsedArgs {
  const options = new Map<string, string[] | true>();
  const positionals: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const word = argv[i];
    if (!word.startsWith('--') || word === '--') {
      positionals.push(word);
      continue;
    }
    const eq = word.indexOf('=');
    const name = (eq < 0 ? word.slice(2) : word.slice(2, eq)).replace(/-/g, '_');
    const spec = specs[name];
    if (!spec) throw new ArgError(`unrecognized arguments: ${word}`);
    if (spec.kind === 'flag') {
      if (eq >= 0) throw new ArgError(`argument --${name}: ignored explicit argument '${word.slice(eq + 1)}'`);
      options.set(name, true);
      continue;
    }
    const values: string[] = eq >= 0 ? [word.slice(eq + 1)] : [];
    if (eq < 0) {
      while (i + 1 < argv.length && !argv[i + 1].startsWith('--')) {
        values.push(argv[++i]);
        if (spec.kind === 'one') break;
      }
    }
    if (values.length === 0) {
      throw new ArgError(`argument --${name}: expected ${spec.kind === 'many' ? 'at least one argument' : 'one argument'}`);
    }
    options.set(name, values);
  }
  return { options, positionals };
}

export function one(args: ParsedArgs, name: string): string | undefined {
  const v = args.options.get(name);
  return Array.isArray(v) ? v[0] : undefined;
}

export function many(args: ParsedArgs, name: string): string[] {
  const v = args.options.get(name);
  return Array.isArray(v) ? v : [];
}

export function flag(args: ParsedArgs, name: string): boolean {
  return args.options.get(name) === true;
}
