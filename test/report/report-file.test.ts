/** Report files: atomic writes, REPORT_WRITE_FAILED naming the file, writeReports, --json. */
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AxError, ExitCode } from '../../shared/errors';
import { renderJson, writeReports } from '../../host/report';
import { renderVerifyJUnit, writeReportFile } from '../../host/report/junit';
import { diagnoseQuantizationLoss } from '../fixtures/report/diagnose';
import { verifyMatch, verifyMismatch } from '../fixtures/report/verify';

let tmp: string;
beforeAll(() => {
  tmp = mkdtempSync(path.join(tmpdir(), 'axctl-report-file-'));
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('writing report files', () => {
  it('writes the whole file and leaves no temporary file behind', async () => {
    const file = path.join(tmp, 'ci', 'verify.xml');
    await writeReportFile(file, 'old');
    await writeReportFile(file, renderVerifyJUnit(verifyMatch));
    expect(readFileSync(file, 'utf8')).toBe(renderVerifyJUnit(verifyMatch));
    expect(readdirSync(path.dirname(file))).toEqual(['verify.xml']);
  });

  it('fails with REPORT_WRITE_FAILED naming the file (exit 2) when it cannot write', async () => {
    const blocker = path.join(tmp, 'a-file');
    writeFileSync(blocker, 'x');
    for (const file of [path.join(blocker, 'report.xml'), tmp]) {
      const err = await writeReportFile(file, 'x').then(() => null, (e: unknown) => e);
      expect(err).toBeInstanceOf(AxError);
      expect((err as AxError).code).toBe('REPORT_WRITE_FAILED');
      expect((err as AxError).exitCode).toBe(ExitCode.USAGE);
      expect((err as AxError).message.startsWith(`${file}: cannot write the report`)).toBe(true);
    }
    expect(readdirSync(tmp).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  it('a folder the kernel will not make (under /proc) is said so, at once, not as a file removed meanwhile', async () => {
    const err = await writeReportFile('/proc/axctl-no-such/report.xml', 'x').then(() => null, (e: unknown) => e);
    expect((err as AxError).code).toBe('REPORT_WRITE_FAILED');
    expect((err as AxError).message).toMatch(/its folder cannot be made there/);
  });

  it('writes each requested report and returns the failures without stopping the others', async () => {
    const html = path.join(tmp, 'out', 'report.html');
    const errors = await writeReports(verifyMismatch, { junit: path.join(tmp, 'a-file', 'x.xml'), html });
    expect(errors.map((e) => e.code)).toEqual(['REPORT_WRITE_FAILED']);
    expect(readFileSync(html, 'utf8')).toContain('<h1 id="verdict-label">MISMATCH</h1>');
    expect(await writeReports(diagnoseQuantizationLoss, { junit: path.join(tmp, 'd.xml'), html: null })).toEqual([]);
    expect(readFileSync(path.join(tmp, 'd.xml'), 'utf8')).toContain('<testsuites name="axctl diagnose"');
    expect(existsSync(path.join(tmp, 'out', 'x.xml'))).toBe(false);
  });

  it('gives --json as the model itself, with non-finite numbers as strings', () => {
    expect(JSON.parse(renderJson(verifyMatch))).toEqual(JSON.parse(JSON.stringify(verifyMatch)));
    const nan = { ...verifyMatch, outputs: [{ ...verifyMatch.outputs[0], cosine: NaN, maxAbsDiff: Infinity }] };
    const back = JSON.parse(renderJson(nan));
    expect(back.outputs[0].cosine).toBe('NaN');
    expect(back.outputs[0].maxAbsDiff).toBe('Infinity');
  });
});
