/**
 * Why a serial link or port failed. Every code is stable (docs/parts/serial.md lists them) and
 * maps to exit code 5 (cannot connect), except a bad URL or option, which is a usage error.
 * `line` names the port as the user wrote it, so the message points at the cable to check.
 */
import { ConnectError } from '../errors';

export type SerialErrorCode =
  | 'SERIAL_NO_PEER'
  | 'SERIAL_LINK_LOST'
  | 'SERIAL_PEER_RESTARTED'
  | 'SERIAL_PEER_RESET'
  | 'SERIAL_VERSION_MISMATCH'
  | 'SERIAL_CLOSED'
  | 'SERIAL_PORT_OPEN_FAILED'
  | 'SERIAL_PORT_BUSY'
  | 'SERIAL_NO_DRIVER'
  | 'SERIAL_BAD_BAUD';

export class SerialLinkError extends ConnectError {
  override readonly code: SerialErrorCode;

  constructor(code: SerialErrorCode, message: string, options: { hint?: string; cause?: unknown } = {}) {
    super(code, message, options);
    this.code = code;
  }
}

const seconds = (ms: number): string => `${Math.round(ms / 100) / 10} s`;

export const serialErrors = {
  noPeer: (line: string, waitedMs: number) =>
    new SerialLinkError('SERIAL_NO_PEER', `${line}: no agent answered within ${seconds(waitedMs)}`, {
      hint: 'start `axagent --serial <tty> --baud <rate>` on the board with the same baud rate (a board agent without serialport: set its line to that rate with stty first), and check the cable (TX to RX)',
    }),
  linkLost: (line: string, silentMs: number) =>
    new SerialLinkError('SERIAL_LINK_LOST', `${line}: the peer has been silent for ${seconds(silentMs)}; giving up`, {
      hint: 'check the cable and that the agent still runs; a longer outage can be allowed with giveup=<seconds> in the URL',
    }),
  peerRestarted: (line: string) =>
    new SerialLinkError('SERIAL_PEER_RESTARTED', `${line}: the peer started a new session (it restarted or another host connected)`, {
      hint: 'run the command again',
    }),
  peerReset: (line: string) =>
    new SerialLinkError('SERIAL_PEER_RESET', `${line}: the peer aborted the session`, { hint: 'run the command again' }),
  versionMismatch: (line: string, ours: number, theirs: number) =>
    new SerialLinkError('SERIAL_VERSION_MISMATCH', `${line}: the peer speaks serial link version ${theirs}, this side ${ours}`, {
      hint: 'deploy the axagent that matches this axctl',
    }),
  closed: (line: string) =>
    new SerialLinkError('SERIAL_CLOSED', `${line}: the serial link is closed`, { hint: 'open a new connection' }),
};
