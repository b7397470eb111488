/**
 * What a command writes (--junit, --html, --save-outputs) may not land on what it reads:
 * `--junit model.joint` replaced the model with XML, `verify --save-outputs gt/joint` replaced
 * the simulator's reference outputs with the board's (so the next verify compares the board
 * with itself), and `--junit r.xml --html r.xml` kept one of the two reports. Checked before
 * the command starts any work, so nothing is run for a report that could not be kept.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { UsageError } from '../../shared/errors';
import { STATE_DIR } from '../state/axctl-state';

/** One output option as given: `--junit` and its value (absent when not given). */
export interface OutputPath {
  option: string;
  path: string | undefined;
  /** It names a folder (--save-outputs); the others name a file. */
  folder?: boolean;
}

/** One input of the command: the option it comes from, what it is, and where. */
export interface InputPath {
  option: string;
  /** "the model", "the gt folder"... */
  what: string;
  path: string | undefined;
  folder?: boolean;
}

/**
 * Throws a UsageError (exit 2) when two outputs name the same path or a file output is inside
 * a folder output (both OUTPUT_PATH_TWICE), an output is an input file (OUTPUT_OVERWRITES_INPUT)
 * or inside an input folder (OUTPUT_IN_INPUT_FOLDER), or a file output is an existing folder
 * (OUTPUT_IS_FOLDER: the run would be wasted on a report that cannot be kept). Relative paths are taken from `cwd`;
 * symbolic links are followed.
 */
export function refuseOutputsOnInputs(outputs: readonly OutputPath[], inputs: readonly InputPath[], cwd: string): void {
  const given = outputs.filter((o): o is OutputPath & { path: string } => typeof o.path === 'string' && o.path !== '');
  const where = (p: string) => canonical(path.resolve(cwd, p));
  for (const [i, out] of given.entries()) {
    const target = where(out.path);
    if (!out.folder && isFolder(target)) {
      throw new UsageError('OUTPUT_IS_FOLDER', `${out.option} ${out.path} is a folder`, { hint: 'name a file inside it' });
    }
    const twin = given.slice(0, i).find((other) => where(other.path) === target);
    if (twin) {
      throw new UsageError('OUTPUT_PATH_TWICE', `${twin.option} and ${out.option} both name ${out.path}`, { hint: `give ${out.option} a path of its own` });
    }
    if (!out.folder) refuseInsideOutputFolder(out, target, given, where);
    for (const input of inputs) {
      if (!input.path) continue;
      const source = where(input.path);
      if (input.folder ? isInside(target, source) : target === source) {
        const problem = !input.folder ? `would overwrite ${input.what} (${input.option})` : target === source ? `is ${input.what} (${input.option})` : `is inside ${input.what} (${input.option})`;
        throw new UsageError(input.folder ? 'OUTPUT_IN_INPUT_FOLDER' : 'OUTPUT_OVERWRITES_INPUT', `${out.option} ${out.path} ${problem}`, {
          hint: input.folder ? `give ${out.option} a path outside ${input.what}` : `give ${out.option} another path`,
        });
      }
    }
  }
}

/**
 * A folder output (--save-outputs) in the project's state folder `.axctl/` (or that folder
 * itself) mixes the board's outputs with the deploy record kept there, and clearing those
 * outputs later could take the record with them: OUTPUT_IN_STATE_FOLDER (exit 2), before any
 * work. Compared as real paths, so `./.axctl`, `.axctl/out/` and a link to either are caught
 * whether or not they exist yet.
 */
export function refuseOutputsInStateFolder(outputs: readonly OutputPath[], cwd: string): void {
  const state = canonical(path.resolve(cwd, STATE_DIR));
  for (const out of outputs) {
    if (!out.folder || !out.path || !isInside(canonical(path.resolve(cwd, out.path)), state)) continue;
    throw new UsageError('OUTPUT_IN_STATE_FOLDER', `${out.option} ${out.path} is in ${STATE_DIR}/, where axctl keeps this folder's deploy record`, {
      hint: `give ${out.option} a folder outside ${STATE_DIR}/, e.g. board-outputs`,
    });
  }
}

/**
 * A report inside the --save-outputs folder: the folder's next run refuses it as a file that
 * run did not write (a nightly job fails on its second night), and one named like an output
 * replaces that output while the folder's list still names it. Either way: OUTPUT_PATH_TWICE.
 */
function refuseInsideOutputFolder(out: OutputPath, target: string, given: readonly (OutputPath & { path: string })[], where: (p: string) => string): void {
  const folder = given.find((other) => other.folder && other !== out && isInside(target, where(other.path)));
  if (!folder) return;
  const problem = target === where(folder.path) ? 'is' : 'is inside';
  throw new UsageError('OUTPUT_PATH_TWICE', `${out.option} ${out.path} ${problem} the ${folder.option} folder ${folder.path}`, {
    hint: `put the report outside ${folder.path}`,
  });
}

/** Anything else (missing, unreadable) is for the write to say after the run, in its own words. */
function isFolder(file: string): boolean {
  try {
    return fs.statSync(file, { throwIfNoEntry: false })?.isDirectory() ?? false;
  } catch {
    return false;
  }
}

/** `file` is `folder` or somewhere below it. */
function isInside(file: string, folder: string): boolean {
  const rel = path.relative(folder, file);
  return rel === '' || (rel.split(path.sep)[0] !== '..' && !path.isAbsolute(rel));
}

/** The absolute path with the symbolic links of its existing part resolved (the rest may not exist yet). */
function canonical(absolute: string): string {
  const rest: string[] = [];
  let current = absolute;
  for (;;) {
    try {
      return path.join(fs.realpathSync(current), ...rest);
    } catch {
      const parent = path.dirname(current);
      if (parent === current) return absolute;
      rest.unshift(path.basename(current));
      current = parent;
    }
  }
}
