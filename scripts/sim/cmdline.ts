/**
 * A faithful port of the parts of tanakh's cmdline.h that run_joint uses: the same option
 * syntax (`--name value`, `--name=value`, `-x value`, bundled flags `-pt`), the same error
 * strings, the same usage text, and `parse_check`'s exits (usage on stderr; exit 0 for
 * `-?`/`--help`, exit 1 with the first error for anything wrong).
 */

export type OptionValue = string | number | boolean;

interface OptionDef {
  readonly name: string;
  readonly short: string;
  readonly desc: string;
  /** 'flag' options take no value; the others hold a string or an int. */
  readonly kind: 'flag' | 'string' | 'int';
  readonly def?: string | number;
}

interface OptionState {
  has: boolean;
  value: OptionValue;
}

export class CmdlineParser {
  private readonly ordered: OptionDef[] = [];
  private readonly states = new Map<string, OptionState>();
  private readonly errors: string[] = [];
  private readonly others: string[] = [];
  private footerText = '';
  private progName = '';

  /** `add(name, short, desc)` without a type: a flag. */
  addFlag(name: string, short: string, desc: string): this {
    return this.define({ name, short, desc, kind: 'flag' });
  }

  addString(name: string, short: string, desc: string, def = ''): this {
    return this.define({ name, short, desc, kind: 'string', def });
  }

  addInt(name: string, short: string, desc: string, def = 0): this {
    return this.define({ name, short, desc, kind: 'int', def });
  }

  footer(text: string): this {
    this.footerText = text;
    return this;
  }

  private define(def: OptionDef): this {
    this.ordered.push(def);
    this.states.set(def.name, { has: false, value: def.kind === 'flag' ? false : (def.def as string | number) });
    return this;
  }

  get<T extends OptionValue>(name: string): T {
    return (this.states.get(name) as OptionState).value as T;
  }

  exist(name: string): boolean {
    return (this.states.get(name) as OptionState).has;
  }

  rest(): readonly string[] {
    return this.others;
  }

  /**
   * `parse_check(argc, argv)`: adds `--help`, parses, and on `-?`/`--help` or an error
   * returns what cmdline.h would write to stderr and the code it would exit with.
   */
  parseCheck(argv0: string, args: readonly string[]): { exit: number; stderr: string } | null {
    if (!this.states.has('help')) this.addFlag('help', '?', 'print this message');
    const ok = this.parse(argv0, args);
    if ((args.length === 0 && !ok) || this.exist('help')) return { exit: 0, stderr: this.usage() };
    if (!ok) return { exit: 1, stderr: `${this.errors[0]}\n${this.usage()}` };
    return null;
  }

  private parse(argv0: string, args: readonly string[]): boolean {
    if (this.progName === '') this.progName = argv0;
    const lookup = new Map<string, string>();
    // cmdline.h walks its std::map, i.e. option names in sorted order.
    for (const def of [...this.ordered].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
      if (def.short !== '') lookup.set(def.short, def.name);
    }
    for (let i = 0; i < args.length; i++) {
      const arg = args[i];
      if (arg.startsWith('--')) {
        const eq = arg.indexOf('=', 2);
        if (eq >= 0) {
          this.setOption(arg.slice(2, eq), arg.slice(eq + 1));
          continue;
        }
        const name = arg.slice(2);
        const def = this.ordered.find((d) => d.name === name);
        if (!def) {
          this.errors.push(`undefined option: --${name}`);
        } else if (def.kind !== 'flag') {
          if (i + 1 >= args.length) this.errors.push(`option needs value: --${name}`);
          else this.setOption(name, args[++i]);
        } else {
          this.setOption(name);
        }
      } else if (arg.startsWith('-')) {
        if (arg.length === 1) continue;
        // All but the last letter are flags; the last one may take the next argument.
        for (let j = 1; j < arg.length - 1; j++) {
          const name = lookup.get(arg[j]);
          if (name === undefined) this.errors.push(`undefined short option: -${arg[j]}`);
          else this.setOption(name);
        }
        const last = arg[arg.length - 1];
        const name = lookup.get(last);
        if (name === undefined) {
          this.errors.push(`undefined short option: -${last}`);
          continue;
        }
        const def = this.ordered.find((d) => d.name === name) as OptionDef;
        if (i + 1 < args.length && def.kind !== 'flag') this.setOption(name, args[++i]);
        else this.setOption(name);
      } else {
        this.others.push(arg);
      }
    }
    return this.errors.length === 0;
  }

  private setOption(name: string, value?: string): void {
    const def = this.ordered.find((d) => d.name === name);
    if (!def) {
      this.errors.push(`undefined option: --${name}`);
      return;
    }
    const state = this.states.get(name) as OptionState;
    if (value === undefined) {
      if (def.kind !== 'flag') this.errors.push(`option needs value: --${name}`);
      else state.has = true;
      return;
    }
    const parsed = def.kind === 'flag' ? undefined : def.kind === 'int' ? lexicalCastInt(value) : value;
    if (parsed === undefined) {
      this.errors.push(`option value is invalid: --${name}=${value}`);
      return;
    }
    state.value = parsed;
    state.has = true;
  }

  usage(): string {
    let out = `usage: ${this.progName} [options] ... ${this.footerText}\noptions:\n`;
    const width = Math.max(...this.ordered.map((d) => d.name.length));
    for (const def of this.ordered) {
      out += def.short !== '' ? `  -${def.short}, ` : '      ';
      out += `--${def.name}${' '.repeat(width + 4 - def.name.length)}${describe(def)}\n`;
    }
    return out;
  }
}

function describe(def: OptionDef): string {
  if (def.kind === 'flag') return def.desc;
  return `${def.desc} (${def.kind} [=${def.def}])`;
}

/**
 * cmdline.h's `lexical_cast<int>`: `stringstream >> int` must succeed and consume the whole
 * string. Leading whitespace and a sign are accepted; trailing characters and overflow are not.
 */
export function lexicalCastInt(text: string): number | undefined {
  const m = /^[ \t\n\v\f\r]*([+-]?[0-9]+)$/.exec(text);
  if (!m) return undefined;
  const v = Number(m[1]);
  if (v < -2147483648 || v > 2147483647) return undefined;
  return v;
}
