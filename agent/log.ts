/** What every part of the agent process shares: its log, and its pacer of young-generation collections. */
import { sharedPacer, type CollectionPacer } from '../shared/young-collection';

/** The agent's log: stderr only (in --stdio mode stdout carries nothing but frames). */
export function log(line: string): void {
  process.stderr.write(`axagent: ${new Date().toISOString()} ${line}\n`);
}

/** The process's pacer of young-generation collections (shared/young-collection.ts); says when this Node cannot collect on request. */
export function collectionPacer(): CollectionPacer {
  return sharedPacer(() => log('note: this Node does not let the agent ask for garbage collection; a large upload will take more memory'));
}
