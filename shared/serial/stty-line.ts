/**
 * The plain-Node serial driver's side of the line rate. Node has no termios API, so the line
 * is configured beforehand with `sttyCommand()`; before the agent uses it, `checkSttyRate()`
 * refuses a `--baud` that stty could not have set.
 *
 * Only the rates termios names (B9600...B4000000) can be set with stty; serialport reaches
 * others through termios2 when the driver allows it, and says so when it does not
 * (SERIAL_BAD_BAUD on both paths).
 */
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
 * Throws SERIAL_BAD_BAUD for a rate stty cannot set: the line cannot have been configured at
 * it. Whether the line really runs at `baud` is not checked: Node cannot read a tty's rate
 * (no termios API), and the agent runs nothing but run_joint, so not `stty` either. A line at
 * another rate looks like a dead peer (SERIAL_NO_PEER on the host, whose hint names stty).
 */
export function checkSttyRate(path: string, baud: number): void {
  if (!STTY_RATES.includes(baud)) throw rateNotSettable(path, baud);
}

function rateNotSettable(path: string, baud: number): SerialLinkError {
  // The standard rates either side of it.
  const near = [STTY_RATES.filter((r) => r < baud).at(-1), STTY_RATES.find((r) => r > baud)].filter((r) => r !== undefined);
  return new SerialLinkError('SERIAL_BAD_BAUD', `${path}: ${baud} baud is not a rate stty can set`, {
    hint: `use a standard rate (e.g. ${near.join(' or ')}) on both ends, or put serialport beside the agent, which asks the driver for any rate`,
  });
}
