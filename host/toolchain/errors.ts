/**
 * Errors of the pulsar wrapper. A tool that cannot be started, a template that cannot be
 * used, a build or run that fails, a config pulsar run must not get: all are "usage or tool
 * failure" for the CLI (exit 2), each with a stable code and a hint saying what to do.
 */
import { AxError, ExitCode, type AxErrorOptions } from '../../shared/errors';

export class ToolchainError extends AxError {
  constructor(code: string, message: string, options?: AxErrorOptions) {
    super(code, message, ExitCode.USAGE, options);
  }
}

/** The last lines of a log that look like errors, to quote in a one-line failure message. */
export function lastErrorLine(lines: readonly string[]): string | null {
  const errorish = /error|exception|failed|fatal|killed|traceback|no such file|not found|cannot|assert/i;
  for (let i = lines.length - 1; i >= 0; i--) {
    const text = lines[i].trim();
    if (text && errorish.test(text)) return text.length > 300 ? `${text.slice(0, 300)}...` : text;
  }
  for (let i = lines.length - 1; i >= 0; i--) {
    const text = lines[i].trim();
    if (text) return text.length > 300 ? `${text.slice(0, 300)}...` : text;
  }
  return null;
}
