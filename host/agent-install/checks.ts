/**
 * "Does it answer?": a full handshake (versions and mutual authentication with the token)
 * with the installed agent, through its wrapper over SSH stdio and through its service's
 * WebSocket port, and what it says of its run_joint. A failure is a result, not an exception,
 * so status can show every check; an agent of another protocol is reported with the command
 * that upgrades it.
 */
import { ConnectError, isAxError, type AxError } from '../../shared/errors';
import type { RunJointProblemCode } from '../../shared/run/agent-run-joint-check';
import { runJointProblemInFacts } from '../board/agent-session';
import type { AgentClient } from '../client/agent-client';
import type { BoardLink } from './board-link';
import { installCommand, sshLoginOf } from './install-command';

export { installCommand, sshLoginOf };

export interface CheckResult {
  ok: boolean;
  /** How it was reached: `ssh://root@board → /opt/axagent/bin/axagent --stdio`, `ws://board:7007`. */
  via: string;
  ms: number;
  agentVersion?: string;
  runJointVersion?: string;
  storeFreeBytes?: number;
  /**
   * It answers, but says its run_joint is gone or not executable (BoardFacts.runJointProblem):
   * nothing can run. An agent of an earlier release refuses to start instead (a failure, this code).
   */
  runJointProblem?: RunJointProblemCode;
  /** Failure: the error's stable code and its one-line description. */
  code?: string;
  error?: string;
}

/** The hint for an agent older than this axctl at `boardUrl`. */
export function agentUpgradeHint(boardUrl: string): string {
  return `upgrade the agent: ${installCommand(sshLoginOf(boardUrl))}`;
}

/**
 * An agent that speaks another protocol major: the handshake's hint says to copy the agent by
 * hand; here we know the board and say which command does it (or, for a newer agent, that
 * axctl is the one to upgrade).
 */
export function withUpgradeHint(err: unknown, boardUrl: string): unknown {
  if (!isAxError(err) || err.code !== 'PROTOCOL_MISMATCH') return err;
  if (/upgrade axctl/i.test(err.hint ?? '')) return err;
  return new ConnectError('PROTOCOL_MISMATCH', err.message, { hint: agentUpgradeHint(boardUrl), cause: err });
}

async function timed(via: string, sshLabel: string, connect: () => Promise<AgentClient>): Promise<CheckResult> {
  const started = Date.now();
  let client: AgentClient | undefined;
  try {
    client = await connect();
    const { facts, agentVersion } = client.hello;
    return {
      ok: true,
      via,
      ms: Date.now() - started,
      agentVersion,
      ...(facts.runJointVersion && { runJointVersion: facts.runJointVersion }),
      storeFreeBytes: facts.storeFreeBytes,
      ...(runJointProblemInFacts(facts) && { runJointProblem: runJointProblemInFacts(facts)!.code }),
    };
  } catch (err) {
    const e = withUpgradeHint(err, sshLabel);
    return { ok: false, via, ms: Date.now() - started, code: isAxError(e) ? e.code : 'INTERNAL', error: isAxError(e) ? e.describe() : String((e as Error)?.message ?? e) };
  } finally {
    await client?.close().catch(() => undefined);
  }
}

export function checkStdio(link: BoardLink, prefix: string, token: string, timeoutMs: number): Promise<CheckResult> {
  return timed(`${link.label} → ${prefix}/bin/axagent --stdio`, link.label, () => link.connectStdio(prefix, token, timeoutMs));
}

/**
 * The service's port. The agent may still be starting (2–4 s on a Cortex-A7), so refused
 * connections are retried until `timeoutMs`; other failures (a wrong token) end at once.
 */
export async function checkService(link: BoardLink, port: number, token: string, timeoutMs: number): Promise<CheckResult> {
  const deadline = Date.now() + timeoutMs;
  const started = Date.now();
  const via = link.serviceVia(port);
  for (;;) {
    const left = Math.max(1000, deadline - Date.now());
    const result = await timed(via, link.label, () => link.connectService(port, token, left));
    result.ms = Date.now() - started;
    if (result.ok || !retryable(result.code) || Date.now() >= deadline) return result;
    await new Promise((resolve) => setTimeout(resolve, 300));
  }
}

function retryable(code: string | undefined): boolean {
  return code === 'CONNECT_REFUSED' || code === 'CONNECT_RESET' || code === 'CONNECT_FAILED' || code === 'CONNECT_CLOSED' || code === 'TRANSPORT_DISCONNECTED' || code === 'SSH_TUNNEL_FAILED';
}

/** A failed check as the error install throws; `log` is the service's last lines, if any. */
export function checkError(what: string, result: CheckResult, log = ''): AxError {
  const tail = log.trim() ? `; its log ends:\n${log.trim().split('\n').map((l) => `    ${l}`).join('\n')}\n` : '';
  const why = (result.error ?? 'no answer').replace(`${result.via}: `, '');
  return new ConnectError(result.code === 'PROTOCOL_MISMATCH' ? 'PROTOCOL_MISMATCH' : 'AGENT_NOT_ANSWERING', `${what} did not answer through ${result.via}: ${why}${tail}`, {
    hint: tail ? 'fix the cause the log shows and run the same install again' : 'fix the cause and run the same install again',
  });
}
