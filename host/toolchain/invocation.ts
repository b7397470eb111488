/**
 * How `pulsar` is started: a plain command (`pulsar`, `/opt/pulsar/bin/pulsar`) or a Docker
 * invocation template (`docker run --rm -v {cwd}:/data -w /data axera/neuwizard:0.6.1.14 pulsar`).
 *
 * The template comes from `--pulsar`, else the AXCTL_PULSAR environment variable, else the
 * plain command `pulsar`. It is split into argv here, quote-aware like a POSIX shell but
 * without one: nothing is expanded, no pipes, no `$VAR`. Placeholders, replaced inside each
 * word after splitting:
 *   {cwd}  absolute folder pulsar works in (the project folder; mount it into the container)
 *   {uid}  {gid}  the current user's ids (`--user {uid}:{gid}` keeps files the build writes yours)
 *   {{ }}  literal braces
 * Because a container sees only what is mounted, a template that mounts {cwd} makes every
 * file handed to pulsar a path relative to {cwd}, and a file outside {cwd} is refused early.
 */
import * as os from 'node:os';
import * as path from 'node:path';
import { ToolchainError } from './errors';

export const PULSAR_ENV = 'AXCTL_PULSAR';
export const DEFAULT_PULSAR = 'pulsar';

export interface PulsarInvocation {
  /** The template as configured (before substitution). */
  readonly template: string;
  readonly source: 'option' | 'env' | 'default';
  /** Command and leading arguments after substitution; pulsar's subcommand follows. */
  readonly argv: readonly string[];
  /** Absolute folder pulsar runs in; paths handed to pulsar are relative to it. */
  readonly cwd: string;
  /** The template mounts {cwd} (a container): files outside cwd cannot be reached. */
  readonly mountsCwd: boolean;
}

export interface ResolveOptions {
  /** `--pulsar` value; wins over the environment. */
  readonly pulsar?: string;
  readonly cwd?: string;
  readonly env?: NodeJS.ProcessEnv;
}

const SHELL_ONLY = /[|;&<>`]/;

/** Splits a command line into words like a POSIX shell would, without expanding anything. */
export function splitCommandLine(text: string): string[] {
  const words: string[] = [];
  let word = '';
  let inWord = false;
  let quote: "'" | '"' | null = null;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quote === "'") {
      if (c === "'") quote = null;
      else word += c;
      continue;
    }
    if (quote === '"') {
      if (c === '"') quote = null;
      else if (c === '\\' && i + 1 < text.length && '"\\$`\n'.includes(text[i + 1])) word += text[++i];
      else if (c === '$' || c === '`') throw unexpanded(text, i);
      else word += c;
      continue;
    }
    if (c === "'" || c === '"') {
      quote = c;
      inWord = true;
    } else if (c === '\\') {
      if (i + 1 >= text.length) throw templateError(text, 'ends with a lone backslash');
      const next = text[++i];
      if (next !== '\n') word += next;
      inWord = true;
    } else if (/\s/.test(c)) {
      if (inWord) words.push(word);
      word = '';
      inWord = false;
    } else if (c === '$') {
      throw unexpanded(text, i);
    } else if (SHELL_ONLY.test(c)) {
      throw templateError(text, `contains '${c}', which only a shell understands and no shell runs the template`,
        'quote it if it is part of an argument, or put the command in a script and name the script');
    } else {
      word += c;
      inWord = true;
    }
  }
  if (quote) throw templateError(text, `has an unclosed ${quote === '"' ? 'double' : 'single'} quote`);
  if (inWord) words.push(word);
  return words;
}

/** Replaces {cwd}, {uid}, {gid} and {{ }} in one word; an unknown {name} is an error. */
export function substitutePlaceholders(word: string, vars: Readonly<Record<string, string>>, template = word): string {
  return word.replace(/\{\{|\}\}|\{([^{}]*)\}/g, (match, name: string | undefined) => {
    if (match === '{{') return '{';
    if (match === '}}') return '}';
    const value = vars[name as string];
    if (value === undefined) {
      throw templateError(template, `has an unknown placeholder ${match}`, `known: ${Object.keys(vars).map((k) => `{${k}}`).join(', ')}; write {{ }} for literal braces`);
    }
    return value;
  });
}

export function resolvePulsarInvocation(options: ResolveOptions = {}): PulsarInvocation {
  const env = options.env ?? process.env;
  const cwd = path.resolve(options.cwd ?? process.cwd());
  const fromEnv = env[PULSAR_ENV]?.trim();
  const [template, source] = options.pulsar?.trim()
    ? [options.pulsar.trim(), 'option' as const]
    : fromEnv
      ? [fromEnv, 'env' as const]
      : [DEFAULT_PULSAR, 'default' as const];
  const words = splitCommandLine(template);
  if (words.length === 0) throw templateError(template, 'is empty', `give a command such as "pulsar" via --pulsar or ${PULSAR_ENV}`);
  const info = os.userInfo();
  const vars = { cwd, uid: String(info.uid), gid: String(info.gid) };
  const argv = words.map((w) => substitutePlaceholders(w, vars, template));
  const mountsCwd = words.some((w) => w.includes('{cwd}'));
  checkContainerWorkdir(template, words);
  return { template, source, argv, cwd, mountsCwd };
}

/**
 * A `docker run` that mounts {cwd} but sets no working folder starts pulsar in the image's
 * default folder, where the relative paths axctl hands over do not exist.
 */
function checkContainerWorkdir(template: string, words: readonly string[]): void {
  const engine = path.basename(words[0] ?? '');
  if (!['docker', 'podman', 'nerdctl'].includes(engine) || !words.includes('run')) return;
  const mounts = words.some((w) => w.includes('{cwd}'));
  const workdir = words.some((w) => w === '-w' || w === '--workdir' || w.startsWith('--workdir=') || /^-w\S/.test(w));
  if (mounts && !workdir) {
    throw templateError(template, 'mounts {cwd} but sets no working folder in the container',
      'add -w with the mount point, e.g. "docker run --rm -v {cwd}:/data -w /data IMAGE pulsar"');
  }
}

/**
 * The path to hand to pulsar for a local file: relative to the invocation's cwd when inside it
 * (works on the host and in a container that mounts cwd), absolute otherwise for a plain
 * command; a container template cannot reach a file outside cwd.
 */
export function toolPath(invocation: PulsarInvocation, file: string): string {
  const absolute = path.resolve(invocation.cwd, file);
  const relative = path.relative(invocation.cwd, absolute);
  const inside = relative === '' || (!relative.startsWith('..') && !path.isAbsolute(relative));
  if (inside) return relative === '' ? '.' : relative.split(path.sep).join('/');
  if (invocation.mountsCwd) {
    throw new ToolchainError('PULSAR_PATH_OUTSIDE_MOUNT',
      `${absolute}: outside ${invocation.cwd}, the only folder the pulsar template mounts`, {
        hint: 'move the file under that folder, or run axctl from a folder that contains every file',
      });
  }
  return absolute;
}

function unexpanded(text: string, at: number): ToolchainError {
  return templateError(text, `uses '${text.slice(at, at + 6)}': no shell runs the template, so nothing is expanded`,
    'write {cwd} instead of $PWD, or put the command in a script and name the script');
}

function templateError(template: string, problem: string, hint?: string): ToolchainError {
  return new ToolchainError('PULSAR_TEMPLATE_INVALID', `pulsar command "${template}" ${problem}`, {
    hint: hint ?? `set it with --pulsar "CMD" or ${PULSAR_ENV}; quote words that contain spaces`,
  });
}
