/**
 * BoardSession over an AgentClient: the board as an axagent reached through any Transport
 * (ws://, ssh:// with the agent on stdio, serial://). A thin adaptor: it renames progress
 * fields and answers has() with booleans; all protocol work stays in host/client/.
 */
import type { AgentClient } from '../client/agent-client';
import type { BoardFacts } from '../../shared/protocol/envelope';
import { isRunJointProblemCode, type AgentReinstall, type AgentRunJointProblem } from '../../shared/run/agent-run-joint-check';
import { reinstallOf } from '../agent-install/install-command';
import type { BoardIdentity, BoardSession, DescribeOptions, ModelDescriptionResult, RunOptions, RunRequest, RunResult, UploadProgress } from './session';

export interface AgentSessionOptions {
  /** The board's URL (as given, or as the inventory resolved `name`). */
  url: string;
  /** The inventory name the user gave, if any. */
  name?: string;
  /** Inactivity limit of one upload or download (default: the client's request timeout). */
  transferTimeoutMs?: number;
  /** How to reinstall the agent, for a run_joint problem's hint [default: from the URL, without SSH options]. */
  reinstall?: AgentReinstall;
}

export class AgentBoardSession implements BoardSession {
  readonly identity: BoardIdentity;

  readonly reinstall: AgentReinstall;

  constructor(readonly client: AgentClient, private readonly opts: AgentSessionOptions) {
    const { facts, agentVersion } = client.hello;
    this.reinstall = opts.reinstall ?? reinstallOf({ given: opts.name ?? opts.url, url: opts.url });
    this.identity = {
      url: opts.url,
      ...(opts.name && { name: opts.name }),
      mode: 'agent',
      ...(facts.hostname && { hostname: facts.hostname }),
      ...(agentVersion && { agentVersion }),
      ...(facts.runJointVersion && { runJointVersion: facts.runJointVersion }),
      ...(facts.storeFreeBytes > 0 && { freeBytes: facts.storeFreeBytes }),
      ...(runJointProblemInFacts(facts) && {
        runJointProblem: { ...runJointProblemInFacts(facts)!, reinstall: this.reinstall },
      }),
    };
  }

  get storeCapBytes(): number | undefined {
    const cap = this.client.hello.facts.storeCapBytes;
    return cap > 0 ? cap : undefined;
  }

  async has(blobs: { hash: string; size: number }[]): Promise<boolean[]> {
    if (blobs.length === 0) return [];
    const presence = await this.client.has(blobs);
    return presence.map((p) => p.present);
  }

  async upload(file: string, hash: string, size: number, onProgress?: (p: UploadProgress) => void): Promise<{ sentBytes: number }> {
    const result = await this.client.putFile(file, hash, size, {
      ...(this.opts.transferTimeoutMs !== undefined && { timeoutMs: this.opts.transferTimeoutMs }),
      onProgress: onProgress && ((p) => onProgress({ doneBytes: p.stored, totalBytes: p.total, sentBytes: Math.max(0, p.stored - p.resumedFrom) })),
    });
    return { sentBytes: result.sentBytes };
  }

  async run(req: RunRequest, opts: RunOptions = {}): Promise<RunResult> {
    const result = await this.client.run(req, opts);
    // The board's run_joint version is known once it has run; keep the identity current.
    if (result.parsed.runJointVersion) this.identity.runJointVersion = result.parsed.runJointVersion;
    return result;
  }

  describeModel(modelHash: string, opts: DescribeOptions = {}): Promise<ModelDescriptionResult> {
    return this.client.describeModel(modelHash, opts);
  }

  download(hash: string, size: number, toFile: string): Promise<void> {
    return this.client.getBlob(hash, size, toFile, this.opts.transferTimeoutMs !== undefined ? { timeoutMs: this.opts.transferTimeoutMs } : {});
  }

  heldOutput(hash: string, size: number): Uint8Array | undefined {
    return this.client.inlineBlob(hash, size);
  }

  close(): Promise<void> {
    return this.client.close();
  }
}

/** The run_joint problem an agent reported at the handshake; undefined when none (or an agent before the field). */
export function runJointProblemInFacts(facts: BoardFacts): AgentRunJointProblem | undefined {
  const code = facts.runJointProblem;
  return isRunJointProblemCode(code) ? { code, path: facts.runJointPath } : undefined;
}
