/**
 * A run request checked before anything happens on the board, with the agent's rules and
 * defaults (docs/parts/agent-core.md, "Runs"): every model input once by name, blob names that
 * are sha256s, repeat 1…100000 (default 1), warmup 0…100000, a time limit of 1 ms…24 h
 * (default 10 minutes), extra run_joint options from the shared allow-list only. As on the
 * wire, repeat 0 and timeoutMs 0 mean the default.
 */
import { UsageError } from '../../../shared/errors';
import { checkBlobHash, checkTensorName } from '../../../shared/protocol/names';
import { checkExtraArgs } from '../../../shared/run/args';
import type { RunRequest } from '../../board/session';

export interface RunPlan {
  modelHash: string;
  inputs: { name: string; hash: string }[];
  repeat: number;
  warmup: number;
  timeoutMs: number;
  extra: string[];
  /** `--override_batch_size`, when the extra options set it. */
  overrideBatch: number | null;
}

export const RUN_LIMITS = { maxRepeat: 100_000, defaultTimeoutMs: 10 * 60 * 1000, maxTimeoutMs: 24 * 60 * 60 * 1000 };

export function checkRunRequest(req: RunRequest, defaultTimeoutMs = RUN_LIMITS.defaultTimeoutMs): RunPlan {
  if (typeof req !== 'object' || req === null || !Array.isArray(req.inputs)) {
    throw new UsageError('BAD_REQUEST', 'a run request needs modelHash and an inputs list');
  }
  const modelHash = checkBlobHash(req.modelHash, 'model hash');
  const names = new Set<string>();
  const inputs = req.inputs.map((input) => {
    checkTensorName(input.name);
    if (names.has(input.name)) throw new UsageError('INPUT_DUPLICATE', `input '${input.name}' is given twice`, { hint: 'give every model input once' });
    names.add(input.name);
    return { name: input.name, hash: checkBlobHash(input.hash, `hash of input '${input.name}'`) };
  });
  const extra = checkExtraArgs(req.extraArgs ?? []);
  const overrideAt = extra.indexOf('--override_batch_size');
  return {
    modelHash,
    inputs,
    repeat: bounded('BAD_REPEAT', 'repeat', req.repeat || 1, 1, RUN_LIMITS.maxRepeat),
    warmup: bounded('BAD_WARMUP', 'warmup', req.warmup ?? 0, 0, RUN_LIMITS.maxRepeat),
    timeoutMs: bounded('BAD_TIMEOUT', 'timeoutMs', req.timeoutMs || defaultTimeoutMs, 1, RUN_LIMITS.maxTimeoutMs),
    extra,
    overrideBatch: overrideAt >= 0 ? Number(extra[overrideAt + 1]) : null,
  };
}

function bounded(code: string, name: string, value: unknown, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min || value > max) {
    throw new UsageError(code, `${name} must be a whole number from ${min} to ${max}, got ${String(value)}`);
  }
  return value;
}
