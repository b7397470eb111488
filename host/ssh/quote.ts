/**
 * POSIX shell quoting for commands sent over SSH. sshd hands the command string to the login
 * shell, so every argument is single-quoted ('it'\''s'): spaces, `;` (run_joint's --data
 * separator), `$`, `*` and newlines all reach the program as written. A NUL byte cannot be
 * passed in an argument at all and is refused.
 */
import { UsageError } from '../../shared/errors';

export function shellQuote(arg: string): string {
  if (arg.includes('\0')) throw new UsageError('SSH_BAD_ARGUMENT', `an argument for the board contains a NUL byte: ${JSON.stringify(arg.slice(0, 60))}`);
  return `'${arg.replace(/'/g, `'\\''`)}'`;
}

/** argv as one shell command line, every word quoted. */
export function shellCommand(argv: readonly string[]): string {
  return argv.map(shellQuote).join(' ');
}
