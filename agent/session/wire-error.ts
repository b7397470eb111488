/**
 * Any error a request ends with, as the protocol's Error message: an AxError keeps its stable
 * code, message, hint and exit code; anything else is a bug in the agent and goes out as
 * AGENT_INTERNAL (the stack stays in the agent's log).
 */
import { ExitCode, isAxError } from '../../shared/errors';
import type { Error as WireError } from '../../shared/protocol/envelope';

export function toWireError(err: unknown, log: (line: string) => void): WireError {
  if (isAxError(err)) return { code: err.code, message: err.message, hint: err.hint ?? '', exitCode: err.exitCode };
  const message = err instanceof Error ? err.message : String(err);
  log(`internal error: ${err instanceof Error && err.stack ? err.stack : message}`);
  return { code: 'AGENT_INTERNAL', message: `internal error in the agent: ${message}`, hint: "see the agent's log (its stderr)", exitCode: ExitCode.RUN_FAILED };
}
