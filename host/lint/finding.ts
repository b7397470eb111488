/** What a lint rule reports: which rule, how bad, what and where, and what to do about it. */

export type Severity = 'error' | 'warning' | 'info';

export interface Finding {
  /** Stable rule id (kebab-case), documented in docs/parts/toolchain.md. */
  readonly id: string;
  readonly severity: Severity;
  readonly message: string;
  /** The config file (as given to lintConfig). */
  readonly file: string;
  /** 1-based line of the offending field (1 when the problem is a field that is missing). */
  readonly line: number;
  /** What to do about it. */
  readonly hint: string;
}

const ORDER: Record<Severity, number> = { error: 0, warning: 1, info: 2 };

/** By line, then severity, then id: the order a reader goes through a file. */
export function sortFindings(findings: readonly Finding[]): Finding[] {
  return [...findings].sort((a, b) => a.line - b.line || ORDER[a.severity] - ORDER[b.severity] || a.id.localeCompare(b.id));
}
