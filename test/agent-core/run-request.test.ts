/**
 * checkRunRequest: the one check of a run request, used by the agent's run service and by
 * agentless SSH alike.
 */
import { describe, expect, it } from 'vitest';
import { AxError } from '../../shared/errors';
import { RUN_LIMITS, checkRunRequest, type RunRequest } from '../../shared/run/request';

const HASH_A = 'a'.repeat(64);
const HASH_B = 'b'.repeat(64);
const base: RunRequest = { modelHash: HASH_A, inputs: [{ name: 'images', hash: HASH_B }] };

function codeOf(req: unknown, limits = RUN_LIMITS): string {
  try {
    checkRunRequest(req as RunRequest, limits);
  } catch (err) {
    expect(err).toBeInstanceOf(AxError);
    return (err as AxError).code;
  }
  throw new Error('accepted');
}

describe('checkRunRequest', () => {
  it('fills the defaults; 0 means "not given", as on the wire', () => {
    const limits = { ...RUN_LIMITS, defaultTimeoutMs: 1234 };
    for (const req of [base, { ...base, repeat: 0, warmup: 0, timeoutMs: 0 }]) {
      expect(checkRunRequest(req, limits)).toEqual({ modelHash: HASH_A, inputs: base.inputs, repeat: 1, warmup: 0, timeoutMs: 1234, extra: [], overrideBatch: null });
    }
  });

  it('keeps what is given within the limits, and reads --override_batch_size', () => {
    const plan = checkRunRequest({ ...base, repeat: 5, warmup: 2, timeoutMs: 9000, extraArgs: ['--override_batch_size', '4'] });
    expect(plan).toMatchObject({ repeat: 5, warmup: 2, timeoutMs: 9000, extra: ['--override_batch_size', '4'], overrideBatch: 4 });
  });

  it('refuses each bad part with its own code', () => {
    expect(codeOf(null)).toBe('BAD_REQUEST');
    expect(codeOf({ modelHash: HASH_A })).toBe('BAD_REQUEST');
    expect(codeOf({ ...base, inputs: [{ hash: HASH_B }] })).toBe('BAD_REQUEST');
    expect(codeOf({ ...base, modelHash: '../model' })).toBe('BAD_HASH');
    expect(codeOf({ ...base, inputs: [{ name: 'images', hash: '/etc/passwd' }] })).toBe('BAD_HASH');
    expect(codeOf({ ...base, inputs: [{ name: '../images', hash: HASH_B }] })).toBe('BAD_TENSOR_NAME');
    expect(codeOf({ ...base, inputs: [{ name: '/abs', hash: HASH_B }] })).toBe('BAD_TENSOR_NAME');
    expect(codeOf({ ...base, inputs: [...base.inputs, { name: 'images', hash: HASH_A }] })).toBe('INPUT_DUPLICATE');
    expect(codeOf({ ...base, repeat: RUN_LIMITS.maxRepeat + 1 })).toBe('BAD_REPEAT');
    expect(codeOf({ ...base, repeat: 2.5 })).toBe('BAD_REPEAT');
    expect(codeOf({ ...base, warmup: -1 })).toBe('BAD_WARMUP');
    expect(codeOf({ ...base, timeoutMs: RUN_LIMITS.maxTimeoutMs + 1 })).toBe('BAD_TIMEOUT');
    expect(codeOf({ ...base, extraArgs: ['--bin-out-dir', '/tmp'] })).toBe('OPTION_NOT_ALLOWED');
  });

  it('applies the limits it is given', () => {
    expect(codeOf({ ...base, repeat: 11 }, { ...RUN_LIMITS, maxRepeat: 10 })).toBe('BAD_REPEAT');
    expect(codeOf({ ...base, timeoutMs: 2000 }, { ...RUN_LIMITS, maxTimeoutMs: 1000 })).toBe('BAD_TIMEOUT');
  });
});
