/** Findings as compiler-style lines (`file:line: severity [id] message`, then the hint). */
import type { Finding } from './finding';

export function renderFindings(file: string, findings: readonly Finding[]): string {
  if (findings.length === 0) return `${file}: no findings\n`;
  const lines = findings.map((f) => `${f.file}:${f.line}: ${f.severity} [${f.id}] ${f.message}\n    fix: ${f.hint}`);
  const count = (s: Finding['severity']) => findings.filter((f) => f.severity === s).length;
  lines.push(`${count('error')} error(s), ${count('warning')} warning(s), ${count('info')} note(s)`);
  return `${lines.join('\n')}\n`;
}
