/**
 * What deploy and verify work on: --board, --model, --gt and --token-file, each from the
 * command line or else from the folder's .axctl/ record of the last deploy. Paths are made
 * absolute against the project folder, so the record stays right wherever the next command
 * is typed from inside it.
 */
import * as path from 'node:path';
import { AxError, BadFileError, UsageError } from '../../shared/errors';
import { statPath, statRegularFile } from '../../shared/fs/regular-file';
import { lookupBoard, looksLikeUrl, sameBoard } from '../boards/inventory';
import { readState, stateFile, type DeployRecord } from '../state/axctl-state';

export interface TargetArgs {
  board?: string;
  model?: string;
  gt?: string;
  tokenFile?: string;
}

export interface Targets {
  board: string;
  model: string;
  gt: string;
  tokenFile?: string;
  /** Which of them came from .axctl/ (for the user's benefit). */
  fromState: ('board' | 'model' | 'gt' | 'token-file')[];
}

export async function resolveTargets(args: TargetArgs, cwd: string, command: 'deploy' | 'verify', env: NodeJS.ProcessEnv = process.env): Promise<Targets> {
  // An option given empty never gets here: the CLI refuses it (OPTION_NEEDS_VALUE), so a bare
  // `verify` cannot fall back to the record by accident.
  const given = (v: string | undefined) => (typeof v === 'string' && v.trim() !== '' ? v : undefined);
  const board = given(args.board);
  const model = given(args.model);
  const gt = given(args.gt);
  const tokenFile = given(args.tokenFile);
  const state = await recordFor({ board, model, gt, tokenFile }, cwd, env);
  const fromState: Targets['fromState'] = [];
  const pick = (name: 'board' | 'model' | 'gt', value: string | undefined, recorded: string | undefined): string => {
    if (value) return value;
    if (recorded) {
      fromState.push(name);
      return recorded;
    }
    throw new UsageError('MISSING_OPTION', `no --${name} given${state ? '' : ', and nothing was deployed from this folder'}`, {
      hint: command === 'deploy' ? 'axctl deploy --board ws://HOST:PORT --model model.joint --gt gt/' : 'pass --board, --model and --gt, or run axctl deploy in this folder first',
    });
  };
  const resolvedBoard = pick('board', board, state?.board);
  const resolvedModel = path.resolve(cwd, pick('model', model, state?.model.path));
  const resolvedGt = path.resolve(cwd, pick('gt', gt, state?.gt.path));
  // A recorded token file belongs to the recorded board, and is only a remembered
  // --token-file: AXCTL_TOKEN, set for this run, wins over it.
  const recordedToken = !tokenFile && !env.AXCTL_TOKEN && state?.tokenFile && sameBoard(state.board, resolvedBoard) ? state.tokenFile : undefined;
  if (recordedToken) fromState.push('token-file');
  const token = tokenFile ? path.resolve(cwd, tokenFile) : recordedToken;
  const targets = { board: resolvedBoard, model: resolvedModel, gt: resolvedGt, ...(token && { tokenFile: token }), fromState };
  await checkRecordedPaths(targets, cwd, command);
  return targets;
}

/**
 * The record, when something may come from it. With --board, --model and --gt all given it can
 * still give the token file (the recorded one, for the same board), so it is read unless the
 * token comes first from --token-file or AXCTL_TOKEN. Then it is only a token source: a damaged
 * record does not stop a command that names everything else (the token sources after it decide).
 */
async function recordFor(given: TargetArgs, cwd: string, env: NodeJS.ProcessEnv): Promise<DeployRecord | null> {
  if (!given.board || !given.model || !given.gt) return readState(cwd);
  if (given.tokenFile || env.AXCTL_TOKEN) return null;
  return readState(cwd).catch(() => null);
}

/**
 * The paths taken from the record must still be there. The user typed none of them, so a
 * plain "mm.joint: no such file (check the path)" would not say where it came from: say it
 * is the last deploy's, and how to give another. Code and exit code stay the file's.
 */
async function checkRecordedPaths(targets: Targets, cwd: string, command: 'deploy' | 'verify'): Promise<void> {
  const checks = [
    { name: 'model', what: 'the model', arg: 'FILE', path: targets.model, check: statRegularFile },
    { name: 'gt', what: 'the gt folder', arg: 'FOLDER', path: targets.gt, check: statPath },
    { name: 'token-file', what: 'the token file', arg: 'FILE', path: targets.tokenFile, check: statRegularFile },
  ] as const;
  if (targets.fromState.includes('board') && !looksLikeUrl(targets.board)) {
    // A recorded inventory name that axctl.yaml no longer has.
    try {
      await lookupBoard(targets.board, { cwd });
    } catch (err) {
      if (!(err instanceof AxError) || err.code !== 'BOARD_UNKNOWN') throw err;
      throw new UsageError(err.code, `${stateFile(cwd)}: the board of the last deploy, ${err.message}`, {
        hint: `pass --board URL${command === 'deploy' ? '' : ', or run axctl deploy again'}${err.hint ? `; ${err.hint}` : ''}`,
        cause: err,
      });
    }
  }
  for (const c of checks) {
    if (!c.path || !targets.fromState.includes(c.name)) continue;
    try {
      await c.check(c.path);
    } catch (err) {
      if (!(err instanceof AxError)) throw err;
      const again = command === 'deploy' ? `pass --${c.name} ${c.arg}` : `pass --${c.name} ${c.arg}, or run axctl deploy again`;
      throw new BadFileError(err.code, stateFile(cwd), `${c.what} of the last deploy, ${err.message}`, { hint: again, cause: err });
    }
  }
}
