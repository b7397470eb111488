/**
 * What install, status and uninstall need from an SSH connection to the board: run a command
 * with some stdin. host/ssh's SshConnection has this shape. Files travel as stdin of `cat`
 * rather than over SFTP, which many boards' sshd (Dropbear) do not offer.
 *
 * Scripts go to `sh -s` on stdin rather than on the command line: no quoting of quoting, no
 * command-line length limit, and the script's text never shows in `ps` (uninstall looks for
 * processes by command line and must not find its own shell).
 */
import { ConnectError, RunFailedError } from '../../shared/errors';

export interface ExecResult {
  code: number | null;
  signal?: string | null;
  stdout: string | Uint8Array;
  stderr: string | Uint8Array;
}

export interface BoardShell {
  exec(command: string, opts?: { stdin?: string | Uint8Array; timeoutMs?: number }): Promise<ExecResult>;
}

export const DEFAULT_SCRIPT_TIMEOUT_MS = 60_000;

export function text(output: string | Uint8Array): string {
  return typeof output === 'string' ? output : Buffer.from(output).toString('utf8');
}

/** Runs `script` with sh on the board; returns stdout, or throws with the script's stderr. */
export async function runScript(shell: BoardShell, board: string, what: string, script: string, opts: { timeoutMs?: number; allowCodes?: number[] } = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  const result = await shell.exec('sh -s', { stdin: script, timeoutMs: opts.timeoutMs ?? DEFAULT_SCRIPT_TIMEOUT_MS });
  const stdout = text(result.stdout);
  const stderr = text(result.stderr).trim();
  const code = result.code ?? -1;
  if (code === 0 || opts.allowCodes?.includes(code)) return { code, stdout, stderr };
  const why = stderr.split('\n').filter(Boolean).slice(-3).join(' / ') || (result.signal ? `killed by ${result.signal}` : `exit code ${code}`);
  if (code === 127 && /sh: not found|sh: command not found/.test(stderr)) {
    throw new ConnectError('BOARD_NO_SHELL', `${board}: no sh on the board`, { hint: 'axctl agent install needs a POSIX shell (BusyBox sh is enough)' });
  }
  throw new RunFailedError('BOARD_COMMAND_FAILED', `${board}: ${what} failed: ${why}`, {
    hint: 'check that the SSH user may write there (connect as root, or choose --prefix in its home with --service none)',
  });
}

/** `key=value` lines → a map (later lines win). */
export function parseKeyValues(out: string): Map<string, string> {
  const map = new Map<string, string>();
  for (const line of out.split('\n')) {
    const eq = line.indexOf('=');
    if (eq > 0) map.set(line.slice(0, eq).trim(), line.slice(eq + 1).trim());
  }
  return map;
}
