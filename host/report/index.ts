/**
 * The report renderers for `axctl verify` and `axctl diagnose`, and writing their files.
 * Commands print `renderVerifyText`/`renderDiagnoseText` (or `renderJson` for `--json`) and
 * then call `writeReports` for `--junit FILE` / `--html FILE`.
 */
import type { AxError } from '../../shared/errors';
import { renderDiagnoseHtml, renderVerifyHtml } from './html';
import { renderDiagnoseJUnit, renderVerifyJUnit } from './junit';
import type { DiagnoseReport, VerifyReport } from './model';
import { writeReportFile } from './report-file';

export { renderDiagnoseHtml, renderVerifyHtml } from './html';
export { renderDiagnoseJUnit, renderVerifyErrorJUnit, renderVerifyJUnit, type VerifyErrorInput } from './junit';
export { writeReportFile } from './report-file';
export { refuseOutputsInStateFolder, refuseOutputsOnInputs, type InputPath, type OutputPath } from './output-paths';
export { renderDiagnoseText, renderVerifyText, useColor, type TextOptions } from './terminal';
export type * from './model';

/** Where `--junit FILE` and `--html FILE` asked the reports to go (either may be absent). */
export interface ReportFiles {
  junit?: string | null;
  html?: string | null;
}

/**
 * Writes the requested report files, each independently: one failing does not stop the
 * other. Returns the errors (empty when all were written) for the caller to print; the
 * command then exits 2 (ExitCode.USAGE) instead of the verdict's code.
 */
export async function writeReports(report: VerifyReport | DiagnoseReport, files: ReportFiles): Promise<AxError[]> {
  const jobs: [string, () => string][] = [];
  if (files.junit) jobs.push([files.junit, () => (report.kind === 'verify' ? renderVerifyJUnit(report) : renderDiagnoseJUnit(report))]);
  if (files.html) jobs.push([files.html, () => (report.kind === 'verify' ? renderVerifyHtml(report) : renderDiagnoseHtml(report))]);
  const results = await Promise.allSettled(jobs.map(([file, render]) => writeReportFile(file, render())));
  return results.flatMap((res) => (res.status === 'rejected' ? [res.reason as AxError] : []));
}

/**
 * The `--json` form: the report model as-is, pretty-printed. JSON has no NaN or Infinity;
 * they are written as the strings "NaN", "Infinity" and "-Infinity" (as `axctl compare` does).
 */
export function renderJson(report: VerifyReport | DiagnoseReport): string {
  return `${JSON.stringify(report, (_key, value: unknown) => (typeof value === 'number' && !Number.isFinite(value) ? String(value) : value), 2)}\n`;
}
