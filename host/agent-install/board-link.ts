/**
 * BoardLink: everything install, status and uninstall do with a board, behind one small
 * interface — a shell (scripts and uploads over SSH), a way to talk to the installed agent
 * through its wrapper on stdio, and a way to reach its service's WebSocket port. The SSH
 * implementation lives in ssh-link.ts; the service logic never builds connections itself.
 */
import type { AgentClient } from '../client/agent-client';
import type { BoardShell } from './board-shell';

export interface BoardLink {
  /** ssh://user@host[:port], for messages and the host's token file name. */
  readonly label: string;
  /** The board's host name or address, as the SSH URL gave it. */
  readonly host: string;
  readonly shell: BoardShell;
  /**
   * Starts PREFIX/bin/axagent --stdio on the board and authenticates to it over the command's
   * stdin/stdout. Throws ConnectError on failure.
   */
  connectStdio(prefix: string, token: string, timeoutMs: number): Promise<AgentClient>;
  /** Authenticates to the agent's WebSocket service on the board's `port`. */
  connectService(port: number, token: string, timeoutMs: number): Promise<AgentClient>;
  /** How connectService reaches the port, for messages: `ws://127.0.0.1:7007 on ssh://... (ssh tunnel)`. */
  serviceVia(port: number): string;
  close(): Promise<void>;
}

/** SSH settings, as `axctl agent` and the inventory give them. */
export interface SshSettings {
  identity?: string;
  knownHosts?: string;
  acceptNewHostKey?: boolean;
  via?: string[];
  timeoutMs?: number;
}
