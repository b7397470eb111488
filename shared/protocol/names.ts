/**
 * Checks of names that arrive in requests and could otherwise reach a path on the board:
 * blob hashes (file names in the store) and tensor names (matched against run_joint's I/O and
 * turned into output file names). Both sides run them: the host to fail early with a clear
 * message, the agent because it trusts nothing it receives.
 */
import { UsageError } from '../errors';

const HASH = /^[0-9a-f]{64}$/;
const MAX_TENSOR_NAME = 512;

export function isBlobHash(value: unknown): value is string {
  return typeof value === 'string' && HASH.test(value);
}

/** Throws BAD_HASH unless `value` is a sha256 in lowercase hex. */
export function checkBlobHash(value: string, what = 'blob hash'): string {
  if (isBlobHash(value)) return value;
  throw new UsageError('BAD_HASH', `${what} ${show(value)} is not a sha256 (64 lowercase hex digits)`);
}

/**
 * Tensor names may contain '/' (run_joint prints `conv1/Relu`), but never as a path: no empty,
 * '.' or '..' segment, no leading '/', no backslash, no control characters.
 */
export function tensorNameProblem(name: string): string | null {
  if (name.length === 0) return 'is empty';
  if (name.length > MAX_TENSOR_NAME) return `is longer than ${MAX_TENSOR_NAME} characters`;
  // eslint-disable-next-line no-control-regex
  if (/[\x00-\x1f\x7f]/.test(name)) return 'contains a control character';
  if (name.includes('\\')) return 'contains a backslash';
  if (name.startsWith('/')) return 'is an absolute path';
  if (name.split('/').some((s) => s === '..' || s === '.' || s === '')) return "contains a '.', '..' or empty path segment";
  return null;
}

export function checkTensorName(name: string): string {
  const problem = tensorNameProblem(name);
  if (problem) throw new UsageError('BAD_TENSOR_NAME', `tensor name ${show(name)} ${problem}`, { hint: 'name inputs exactly as run_joint lists them' });
  return name;
}

function show(value: string): string {
  return JSON.stringify(value.length > 80 ? `${value.slice(0, 80)}…` : value);
}
