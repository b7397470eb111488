/**
 * Errors the agent client raises. An Error message from the agent becomes an AgentError with
 * the agent's own code, message, hint and exit code (BAD_HASH, STORE_FULL, AUTH_FAILED...);
 * what the client itself detects has the codes below (all exit 5 unless said otherwise).
 */
import { AxError, ConnectError, ExitCode, type ExitCodeValue } from '../../shared/errors';
import { peerText } from '../../shared/peer-text';
import type { Error as WireError } from '../../shared/protocol/envelope';
import type { CloseInfo } from '../../shared/transport/transport';

/**
 * Longest message or hint of the agent's kept: its longest (a refused run naming every missing
 * blob) fit many times over. Before authentication any program on the port may answer, so
 * what it says is printed as peer text (shared/peer-text.ts): one line, no escape sequences.
 */
const AGENT_TEXT_MAX_CHARS = 2000;
const CODE_MAX_CHARS = 64;

/** An error the agent reported for a request (or, with id 0, for the whole connection). */
export class AgentError extends AxError {
  /** True: the code and message come from the agent. */
  readonly remote = true;
  constructor(wire: WireError, peer: string) {
    const message = wire.message ? peerText(wire.message, AGENT_TEXT_MAX_CHARS) : 'the agent reported an error';
    super(wire.code ? peerText(wire.code, CODE_MAX_CHARS) : 'AGENT_ERROR', `${peer}: ${message}`, exitCodeOf(wire.exitCode), wire.hint ? { hint: peerText(wire.hint, AGENT_TEXT_MAX_CHARS) } : {});
  }
}

function exitCodeOf(code: number): ExitCodeValue {
  return code >= 1 && code <= 5 ? (code as ExitCodeValue) : ExitCode.RUN_FAILED;
}

/** Nothing arrived for a request within its timeout. */
export function requestTimeout(peer: string, what: string, ms: number): ConnectError {
  return new ConnectError('REQUEST_TIMEOUT', `${peer}: no answer to ${what} for ${Math.round(ms / 100) / 10} s`, {
    hint: 'the agent may be overloaded or stuck; check its log (stderr) on the board',
  });
}

/** What a call was doing when the connection ended: it decides what to advise. */
export type CallPhase = 'upload' | 'run' | 'download';

const LOST_HINTS: Record<CallPhase | 'other', string> = {
  upload: 'connect again; uploads resume where they stopped',
  // A live agent cancels what a closed connection had in flight (agent/session/session.ts); an
  // agent that died leaves run_joint running until it starts again (agent/run/leftover-runs.ts).
  run: "run the command again; a live agent stops the board's run_joint when the connection ends, and one that died stops it when it starts again",
  download: 'run the command again; the download starts over',
  other: 'check the network and the board, then connect again',
};

/** The connection ended while requests were in flight (`phase`: what the call was doing). */
export function connectionLost(peer: string, info: CloseInfo, phase?: CallPhase): ConnectError {
  const why = info.error ? `: ${info.error.message}` : info.reason === 'local' ? ' (closed by this side)' : ' (the agent closed it)';
  // A link that fell silent keeps its documented code: scripts tell a dead line or a stopped
  // agent (TRANSPORT_IDLE_TIMEOUT) from a connection that was closed or reset (CONNECTION_LOST).
  const code = info.error?.code === 'TRANSPORT_IDLE_TIMEOUT' ? 'TRANSPORT_IDLE_TIMEOUT' : 'CONNECTION_LOST';
  return new ConnectError(code, `the connection to ${peer} was lost${why}`, {
    hint: LOST_HINTS[phase ?? 'other'],
    ...(info.error ? { cause: info.error } : {}),
  });
}
