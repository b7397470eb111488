/**
 * The board step through the verify service (host/verify): deploy what the board lacks, run
 * the gt inputs with run_joint, compare its outputs with gt/joint. Connection settings are
 * verify's (--token-file, --connect-timeout, the SSH options, the axctl.yaml inventory); a board that cannot be
 * reached throws verify's ConnectError, which the diagnosis records as 'unreachable'.
 */
import type { Progress } from '../deploy/progress';
import type { SshBoardOptions } from '../ssh/board-openers';
import { verify } from '../verify/verify';
import type { BoardVerifier } from './board';

export interface BoardConnection {
  /** The project folder: .axctl/ state, the inventory, paths in the report. */
  readonly cwd: string;
  readonly tokenFile?: string;
  readonly connectTimeoutMs?: number;
  readonly progress: Progress;
  /** Ctrl-C: cancels the run on the board. */
  readonly signal?: AbortSignal;
  /** --identity, --via, --agentless... for ssh:// boards, as verify takes them. */
  readonly ssh?: SshBoardOptions;
  /** Told why the verdict could not be noted in the folder's deploy record (verify's `notRecorded`). */
  readonly onNotRecorded?: (why: string) => void;
}

export function verifyOnBoard(conn: BoardConnection): BoardVerifier {
  return async (req, hooks) => {
    const outcome = await verify({
      ...(hooks?.onBoardReached && { onBoardReached: hooks.onBoardReached }),
      ...conn.ssh,
      board: req.board,
      model: req.joint,
      gt: req.gt,
      cwd: conn.cwd,
      progress: conn.progress,
      ...(conn.tokenFile !== undefined && { tokenFile: conn.tokenFile }),
      ...(conn.connectTimeoutMs !== undefined && { connectTimeoutMs: conn.connectTimeoutMs }),
      ...(conn.signal && { signal: conn.signal }),
    });
    if (outcome.notRecorded) conn.onNotRecorded?.(outcome.notRecorded);
    return outcome.report;
  };
}
