/**
 * What every lint rule gets: the parsed config, where it lives (dataset paths are relative
 * to the config's folder), container mounts for paths written as the container sees them,
 * and a finding constructor that fills in the file.
 */
import * as path from 'node:path';
import { UsageError } from '../../shared/errors';
import type { PtDocument, PtField, PtMessage } from '../../shared/parsers/prototxt';
import type { Finding, Severity } from './finding';
import { asMessage } from './tree';

/** A folder as the toolchain container sees it and where it is on this machine. */
export interface PathMount {
  /** e.g. /data */
  readonly container: string;
  /** Absolute host folder. */
  readonly host: string;
}

export interface LintContext {
  readonly doc: PtDocument;
  /** The config file as given (used in findings). */
  readonly file: string;
  /** Absolute folder of the config. */
  readonly dir: string;
  readonly mounts: readonly PathMount[];
  /** Where to look up tensor settings for a field: its tasks { } block first, then the top level. */
  scopesFor(ancestors: readonly PtField[]): PtMessage[];
  finding(id: string, severity: Severity, line: number, message: string, hint: string): Finding;
}

export function makeContext(doc: PtDocument, file: string, mounts: readonly PathMount[] = []): LintContext {
  return {
    doc,
    file,
    dir: path.dirname(path.resolve(file)),
    mounts,
    scopesFor(ancestors) {
      const task = ancestors.length > 0 && ancestors[0].name === 'tasks' ? asMessage(ancestors[0]) : undefined;
      return task ? [task, doc] : [doc];
    },
    finding(id, severity, line, message, hint) {
      return { id, severity, message, file, line, hint };
    },
  };
}

/** `--mount CONTAINER=HOST` values → mounts (HOST resolved against the current folder). */
export function parseMounts(values: readonly string[] = []): PathMount[] {
  return values.map((v) => {
    const at = v.indexOf('=');
    if (at <= 0 || at === v.length - 1) throw new UsageError('LINT_BAD_MOUNT', `--mount ${v}: expected CONTAINER=HOST`, {
        hint: "e.g. --mount /data=. reads the config's /data/... paths from this folder",
      });
    return { container: v.slice(0, at), host: path.resolve(v.slice(at + 1)) };
  });
}
