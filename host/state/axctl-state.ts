/**
 * The `.axctl/` folder of the current directory: what the last `axctl deploy` put on which
 * board, so a bare `axctl verify` knows what to check, and what that verify found. One JSON
 * file, written atomically (a crash never leaves half a record). Paths inside the folder the
 * record belongs to are stored relative to it, so the project can be moved or checked out
 * elsewhere; paths outside it are stored absolute.
 */
import { constants, lstatSync, promises as fsp, type Stats } from 'node:fs';
import * as path from 'node:path';
import { BadFileError, fileWriteError, isAxError, shortenForMessage, writeProblem, type AxError } from '../../shared/errors';
import { writeJsonAtomic } from '../../shared/fs/atomic';
import { readTextFile } from '../../shared/fs/regular-file';
import type { Verdict } from '../report/model';

export const STATE_DIR = '.axctl';
export const STATE_FILE = 'state.json';
const STATE_VERSION = 1;

export interface FileRecord {
  /** Absolute path (relative in the file on disk when inside the project folder). */
  path: string;
  hash: string;
  size: number;
}

export interface DeployRecord {
  /** `--board` as given: a URL or an inventory name. */
  board: string;
  /** `--token-file` when one was given (absolute). The token itself is never recorded. */
  tokenFile?: string;
  model: FileRecord;
  gt: { path: string; inputs: FileRecord[] };
  deployedAt: string;
  lastVerify?: { verdict: Verdict; exitCode: number; at: string };
}

export function stateFile(projectDir: string): string {
  return path.join(projectDir, STATE_DIR, STATE_FILE);
}

/** The record of `projectDir`, or null when nothing was deployed from there. */
/** A small local read is done in place: each async file-system call costs a thread hand-off (~0.5 ms under load). */
function lstatOrNull(file: string): Stats | null {
  try {
    return lstatSync(file);
  } catch {
    return null;
  }
}

export async function readState(projectDir: string): Promise<DeployRecord | null> {
  const file = stateFile(projectDir);
  let text: string;
  try {
    text = await readTextFile(file, { what: 'a deploy record' });
  } catch (err) {
    if (isAxError(err) && err.code === 'FILE_NOT_FOUND' && !lstatOrNull(file)) return null;
    throw await notARecord(projectDir, err);
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    throw corrupt(file, 'is not JSON');
  }
  if (typeof data !== 'object' || data === null || Array.isArray(data)) {
    throw corrupt(file, `holds ${data === null ? 'null' : Array.isArray(data) ? 'a JSON array' : `a JSON ${typeof data}`}, not a deploy record (a JSON object)`);
  }
  const record = data as { version?: unknown } & Partial<DeployRecord>;
  if (record.version !== STATE_VERSION) throw corrupt(file, versionProblem(record.version));
  if (typeof record.board !== 'string' || !isFileRecord(record.model) || typeof record.gt?.path !== 'string' || !Array.isArray(record.gt.inputs) || !record.gt.inputs.every(isFileRecord)) {
    throw corrupt(file, 'lacks the board, model or gt of the last deploy');
  }
  const abs = (p: string) => path.resolve(projectDir, p);
  return {
    board: record.board,
    ...(typeof record.tokenFile === 'string' && { tokenFile: abs(record.tokenFile) }),
    model: { ...record.model, path: abs(record.model.path) },
    gt: { path: abs(record.gt.path), inputs: record.gt.inputs.map((f) => ({ ...f, path: abs(f.path) })) },
    deployedAt: String(record.deployedAt ?? ''),
    ...(record.lastVerify && { lastVerify: record.lastVerify }),
  };
}

export async function writeState(projectDir: string, record: DeployRecord): Promise<void> {
  const rel = (p: string) => relativeInside(projectDir, p);
  const onDisk = {
    version: STATE_VERSION,
    board: record.board,
    ...(record.tokenFile && { tokenFile: rel(record.tokenFile) }),
    model: { ...record.model, path: rel(record.model.path) },
    gt: { path: rel(record.gt.path), inputs: record.gt.inputs.map((f) => ({ ...f, path: rel(f.path) })) },
    deployedAt: record.deployedAt,
    ...(record.lastVerify && { lastVerify: record.lastVerify }),
  };
  const file = stateFile(projectDir);
  try {
    await writeJsonAtomic(file, onDisk);
  } catch (err) {
    throw stateWriteError(file, err);
  }
}

/**
 * Throws what writeState would if the record could not be written now. deploy calls it before
 * opening the board: finding out after the upload (minutes over a serial line) and the run
 * throws that work away. It makes nothing, so a deploy that fails later leaves no empty .axctl/.
 */
export async function checkStateWritable(projectDir: string): Promise<void> {
  const dir = path.join(projectDir, STATE_DIR);
  const file = stateFile(projectDir);
  const statOrNull = (p: string) => fsp.stat(p).catch((err: NodeJS.ErrnoException) => (err.code === 'ENOENT' ? null : Promise.reject(err)));
  try {
    const dirStats = await statOrNull(dir);
    if (!dirStats) return await fsp.access(projectDir, constants.W_OK);
    // The errnos the write itself would meet, so the message is the one writeState gives.
    if (!dirStats.isDirectory()) throw Object.assign(new Error('not a folder'), { code: 'ENOTDIR' });
    await fsp.access(dir, constants.W_OK);
    if ((await statOrNull(file))?.isDirectory()) throw Object.assign(new Error('is a folder'), { code: 'EISDIR' });
  } catch (err) {
    throw stateWriteError(file, err);
  }
}

function stateWriteError(file: string, err: unknown): AxError {
  const failed = fileWriteError(file, err);
  if (!['EROFS', 'EACCES', 'EPERM'].includes((err as NodeJS.ErrnoException).code ?? '')) return failed;
  // The record goes where axctl runs: "write elsewhere" means "run it elsewhere".
  return new BadFileError(failed.code, file, `cannot be written: ${writeProblem(err).problem}`, {
    hint: `run axctl from a folder you can write to: it keeps the deploy record in ${STATE_DIR}/ there`,
    cause: err,
  });
}

/** `p` relative to `dir` when inside it (portable), else absolute. */
function relativeInside(dir: string, p: string): string {
  const rel = path.relative(path.resolve(dir), path.resolve(p));
  return rel === '' ? '.' : rel.startsWith('..') || path.isAbsolute(rel) ? path.resolve(p) : rel;
}

function isFileRecord(value: unknown): value is FileRecord {
  const v = value as Partial<FileRecord> | undefined;
  return typeof v?.path === 'string' && typeof v.hash === 'string' && typeof v.size === 'number';
}

function versionProblem(version: unknown): string {
  if (version === undefined) return `has no "version" field; this axctl reads version ${STATE_VERSION} records`;
  if (typeof version === 'number') return `has version ${version}, this axctl reads version ${STATE_VERSION}`;
  return `has "version": ${shortenForMessage(JSON.stringify(version) ?? String(version))}, not a version number; this axctl reads version ${STATE_VERSION}`;
}

/**
 * A read error of the record, said as what is wrong with .axctl/: "is not a folder (name a
 * folder)" would blame a path the user never typed and tell them to change it.
 */
async function notARecord(projectDir: string, err: unknown): Promise<unknown> {
  if (!isAxError(err)) return err;
  const dir = path.join(projectDir, STATE_DIR);
  if (err.code === 'FILE_NOT_FOLDER' && !(await fsp.stat(dir).then((st) => st.isDirectory(), () => true))) {
    return new BadFileError('STATE_CORRUPT', dir, 'is a file, not the folder where axctl keeps the deploy record', {
      hint: 'move or delete that file; axctl deploy makes the folder',
      cause: err,
    });
  }
  if (err.code === 'FILE_IS_FOLDER' || err.code === 'FILE_NOT_REGULAR') {
    const what = err.code === 'FILE_IS_FOLDER' ? 'a folder' : 'a device, socket or pipe';
    return new BadFileError('STATE_CORRUPT', stateFile(projectDir), `is ${what}, not the file holding the deploy record`, { hint: `delete ${dir} and run axctl deploy again`, cause: err });
  }
  return err;
}

function corrupt(file: string, problem: string): BadFileError {
  return new BadFileError('STATE_CORRUPT', file, problem, { hint: `delete ${path.dirname(file)} and run axctl deploy again` });
}
