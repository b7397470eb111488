/**
 * The plain-Node serial driver's side of the line rate. Node has no termios API, so the line
 * is configured beforehand with `sttyCommand()`; before the agent uses it, `checkSttyRate()`
 * makes sure it really runs at `--baud`: a line left at another rate (stty forgotten, or a USB
 * adapter plugged in again, which resets it) would otherwise look like a dead peer.
 *
 * Only the rates termios names (B9600...B4000000) can be set with stty; serialport reaches
 * others through termios2 when the driver allows it, and says so when it does not
 * (SERIAL_BAD_BAUD on both paths).
 */
import { execFile } from 'node:child_process';
import { SerialLinkError } from './errors';

/** The rates Linux termios has a constant for: what `stty SPEED` (BusyBox, coreutils) accepts. */
export const STTY_RATES: readonly number[] = [
  50, 75, 110, 134, 150, 200, 300, 600, 1200, 1800, 2400, 4800, 9600, 19200, 38400, 57600, 115200, 230400, 460800, 500000, 576000,
  921600, 1000000, 1152000, 1500000, 2000000, 2500000, 3000000, 3500000, 4000000,
];

/** 8N1, raw, no echo, no flow control (XON/XOFF would eat 0x11/0x13 bytes of frames). */
export const STTY_SETTINGS = ['raw', '-echo', '-echoe', '-echok', '-ixon', '-ixoff', '-crtscts', 'cs8', '-cstopb', '-parenb', 'clocal', 'cread'];

const quote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

/** The shell command that prepares `path` for the agent's plain-Node driver. */
export function sttyCommand(path: string, baud: number): string {
  if (!STTY_RATES.includes(baud)) throw rateNotSettable(path, baud);
  return `stty -F ${quote(path)} ${baud} ${STTY_SETTINGS.join(' ')}`;
}

/**
 * Resolves when the tty at `path` runs at `baud`; else a SerialLinkError: SERIAL_BAD_BAUD (a
 * rate stty cannot set, or the line set to another), SERIAL_NO_DRIVER (stty cannot be run to
 * read the rate). The one program this driver runs: `stty -F PATH speed`, which only reads.
 */
export async function checkSttyRate(path: string, baud: number, stty = 'stty'): Promise<void> {
  if (!STTY_RATES.includes(baud)) throw rateNotSettable(path, baud);
  const actual = await readRate(path, stty);
  if (actual !== baud) {
    throw new SerialLinkError('SERIAL_BAD_BAUD', `${path}: the line is set to ${actual} baud, not ${baud}`, {
      hint: `configure it before starting the agent: ${sttyCommand(path, baud)} (or put serialport beside the agent, which sets the rate itself)`,
    });
  }
}

function readRate(path: string, stty: string): Promise<number> {
  return new Promise((resolve, reject) => {
    // No shell; the path goes as one argument. O_NONBLOCK opens in stty: no wait for carrier.
    execFile(stty, ['-F', path, 'speed'], { timeout: 5000, encoding: 'utf8' }, (err, stdout, stderr) => {
      const rate = Number(stdout.trim());
      if (!err && stdout.trim() !== '' && Number.isInteger(rate)) return resolve(rate);
      const why = (err as NodeJS.ErrnoException | null)?.code === 'ENOENT' ? `${stty} is not installed` : `${stty} -F ${path} speed failed (${(stderr || err?.message || stdout).trim().split('\n')[0]})`;
      reject(
        new SerialLinkError('SERIAL_NO_DRIVER', `${path}: cannot check that the line runs at the requested rate: ${why}`, {
          hint: 'install stty (BusyBox or coreutils) on the board, or put serialport beside the agent',
          cause: err,
        }),
      );
    });
  });
}

function rateNotSettable(path: string, baud: number): SerialLinkError {
  // The standard rates either side of it.
  const near = [STTY_RATES.filter((r) => r < baud).at(-1), STTY_RATES.find((r) => r > baud)].filter((r) => r !== undefined);
  return new SerialLinkError('SERIAL_BAD_BAUD', `${path}: ${baud} baud is not a rate stty can set`, {
    hint: `use a standard rate (e.g. ${near.join(' or ')}) on both ends, or put serialport beside the agent, which asks the driver for any rate`,
  });
}
