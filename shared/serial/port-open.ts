/**
 * Opening a serial port as a byte Duplex, two ways:
 *
 * - serialport (npm, native binding): sets the baud rate and raw mode through termios. The
 *   host always has it. The bundled agent (dist/axagent.js) keeps it external, so on a board
 *   it loads only if `node_modules/serialport` with its linux-arm prebuilt binding sits beside
 *   the agent. It is loaded lazily: an agent that never uses --serial does not need it.
 * - a pre-configured tty (plain Node, no native code; driver name 'stty'): Node has no
 *   termios API, and the agent does not change the line's settings itself. Whoever starts the
 *   agent configures the line first with `sttyCommand(path, baud)`; the agent refuses a rate
 *   stty cannot set (stty-line.ts; it cannot read the line's actual rate: it runs nothing but
 *   run_joint), then reads and writes it through Node's own tty streams, which poll the descriptor with epoll
 *   like a socket. The only private touch is making the write side non-blocking
 *   (tty.WriteStream blocks by default, meant for a terminal).
 */
import * as fs from 'node:fs';
import { Duplex } from 'node:stream';
import * as tty from 'node:tty';
import { isAxError } from '../errors';
import { SerialLinkError } from './errors';
import { checkSttyRate } from './stty-line';

export { STTY_SETTINGS, sttyCommand } from './stty-line';
import type { OpenLine } from './line-driver';
import { firstLineOf } from '../first-line';

export type SerialDriverName = 'serialport' | 'stty';

type SerialPortModule = typeof import('serialport');

/** The serialport module, or undefined (with why) when it or its native binding is missing. */
export function loadSerialport(): { module?: SerialPortModule; problem?: string } {
  try {
    // A plain require so the agent bundle leaves it external and loads it only here.
    const module = require('serialport') as SerialPortModule;
    return { module };
  } catch (err) {
    return { problem: firstLineOf(err) };
  }
}

/** Turns a failed open into one line naming the port and what to do. */
export function portOpenError(path: string, err: unknown): SerialLinkError {
  const text = (err as Error | undefined)?.message ?? String(err);
  const errno = (err as NodeJS.ErrnoException | undefined)?.code ?? '';
  const has = (...needles: string[]) => needles.some((n) => text.includes(n) || errno === n);
  let code: 'SERIAL_PORT_OPEN_FAILED' | 'SERIAL_PORT_BUSY' = 'SERIAL_PORT_OPEN_FAILED';
  let problem = `cannot be opened (${text})`;
  let hint = 'check the path and that it is a serial port';
  if (has('ENOENT', 'No such file')) {
    problem = 'no such device';
    hint = 'check the path (ls /dev/ttyUSB* /dev/ttyACM* /dev/ttyS*) and that the adapter is plugged in';
  } else if (has('EACCES', 'EPERM', 'Permission denied')) {
    problem = 'permission denied';
    hint = 'add your user to the dialout group (then log in again) or fix the device permissions';
  } else if (has('EBUSY', 'Cannot lock port', 'Resource temporarily unavailable')) {
    code = 'SERIAL_PORT_BUSY';
    problem = 'is in use by another program';
    hint = 'close the terminal program (screen, minicom, picocom) or the other axctl using it';
  } else if (has('ENOTTY', 'Inappropriate ioctl')) {
    problem = 'is not a serial port (a terminal device was expected)';
  } else if (/baud ?rate/i.test(text)) {
    // serialport asks the driver for a rate termios has no constant for (termios2); some refuse.
    const rate = /rate of (\d+)/.exec(text)?.[1];
    return new SerialLinkError('SERIAL_BAD_BAUD', `${path}: ${rate ? `${rate} baud` : 'the baud rate'} cannot be set on this port (${text})`, {
      hint: 'use a standard rate (e.g. 115200 or 921600) on both ends',
      cause: err,
    });
  }
  return new SerialLinkError(code, `${path}: ${problem}`, { hint, cause: err });
}

/** Opens `path` at `baud` with serialport. */
export function openWithSerialport(path: string, baud: number, serialport?: SerialPortModule): Promise<OpenLine> {
  const module = serialport ?? loadSerialport().module;
  if (!module) return Promise.reject(missingDriver(path, `the serialport module cannot be loaded (${loadSerialport().problem ?? 'not installed'})`));
  const port = new module.SerialPort({ path, baudRate: baud, autoOpen: false, highWaterMark: 16 * 1024 });
  // destroy() would end the stream but keep the descriptor (and its lock): close() it.
  const close = () => new Promise<void>((resolve) => (port.isOpen ? port.close(() => resolve()) : resolve()));
  return new Promise((resolve, reject) => {
    port.open((err) => (err ? reject(portOpenError(path, err)) : resolve({ stream: port, close })));
  });
}

/**
 * Opens `path` through Node's tty streams. The line must already be set to `baud`, raw, by
 * `sttyCommand()` run before the agent starts; a rate stty cannot set is refused
 * (checkSttyRate: SERIAL_BAD_BAUD), as serialport refuses a rate the driver cannot set.
 */
export async function openWithStty(path: string, baud: number): Promise<OpenLine> {
  const { O_RDONLY, O_WRONLY, O_NOCTTY, O_NONBLOCK } = fs.constants;
  let readFd: number | undefined;
  try {
    // Two descriptors: one tty handle each, so reading and writing never share an epoll entry.
    readFd = fs.openSync(path, O_RDONLY | O_NOCTTY | O_NONBLOCK);
    if (!tty.isatty(readFd)) throw Object.assign(new Error('not a terminal device'), { code: 'ENOTTY' });
    checkSttyRate(path, baud);
    const writeFd = fs.openSync(path, O_WRONLY | O_NOCTTY | O_NONBLOCK);
    const readable = new tty.ReadStream(readFd);
    const writable = new tty.WriteStream(writeFd);
    (writable as unknown as { _handle?: { setBlocking?: (on: boolean) => void } })._handle?.setBlocking?.(false);
    const stream = Duplex.from({ readable, writable });
    const closed = new Promise<void>((resolve) => stream.once('close', () => resolve()));
    stream.once('close', () => {
      readable.destroy();
      writable.destroy();
    });
    return {
      stream,
      close: () => {
        // Duplex.from reports its halves' destroy() as an 'aborted' error: expected here, and
        // with no listener it would crash the process closing the line.
        stream.on('error', () => undefined);
        stream.destroy();
        return closed;
      },
    };
  } catch (err) {
    if (readFd !== undefined) fs.closeSync(readFd);
    if (isAxError(err)) throw err;
    throw portOpenError(path, err);
  }
}

/** serialport when it loads, else stty: what the agent uses on a board. */
export function openSerialLine(path: string, baud: number, driver?: SerialDriverName): Promise<OpenLine> {
  if (driver === 'stty') return openWithStty(path, baud);
  const loaded = loadSerialport();
  if (loaded.module || driver === 'serialport') return openWithSerialport(path, baud, loaded.module);
  return openWithStty(path, baud);
}

function missingDriver(path: string, problem: string): SerialLinkError {
  return new SerialLinkError('SERIAL_NO_DRIVER', `${path}: no way to open a serial port: ${problem}`, {
    hint: 'install serialport beside the agent (npm install serialport, which brings the prebuilt binding for linux-arm), or configure the line with stty before starting the agent',
  });
}
