/** What every part of the agent process shares: its log, and its pacer of young-generation collections. */
import { peerText } from '../shared/peer-text';
import { sharedPacer, type CollectionPacer } from '../shared/young-collection';

/**
 * Longest log line kept. Lines quote what peers sent (a client version, an error's message),
 * and one peer must not be able to make a line of megabytes; a stack trace fits.
 */
export const LOG_LINE_MAX_CHARS = 4096;

/**
 * The agent's log: stderr only (in --stdio mode stdout carries nothing but frames). One line
 * per event, always: control characters in `line` (a peer's newline, an escape sequence) are
 * escaped, so no text a peer sent can forge a line or drive the terminal of whoever reads it.
 */
export function log(line: string): void {
  process.stderr.write(`axagent: ${new Date().toISOString()} ${peerText(line, LOG_LINE_MAX_CHARS)}\n`);
}

/** The process's pacer of young-generation collections (shared/young-collection.ts); says when this Node cannot collect on request. */
export function collectionPacer(): CollectionPacer {
  return sharedPacer(() => log('note: this Node does not let the agent ask for garbage collection; a large upload will take more memory'));
}
