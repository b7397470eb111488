/**
 * JUnit XML, parsed by a real XML parser (Chromium's DOMParser, which rejects any
 * well-formedness error) and counted.
 */
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { renderDiagnoseJUnit, renderVerifyErrorJUnit, renderVerifyJUnit } from '../../host/report/junit';
import { describeExit, describeTiming } from '../../host/report/format';
import type { VerifyReport } from '../../host/report/model';
import { diagnoseQuantizationLoss } from '../fixtures/report/diagnose';
import { verifyHostile, verifyInputError, verifyMatch, verifyMismatch, verifyRunFailed } from '../fixtures/report/verify';
import { startBrowser, type Browser } from './chromium';
import type { DomDocument, DomElement } from './dom-types';

// The browser's XML parser, for the callback that runs inside Chromium.
declare const DOMParser: new () => { parseFromString(text: string, type: string): DomDocument };

interface Parsed {
  error: string | null;
  root: Record<string, string>;
  suites: { attrs: Record<string, string>; properties: Record<string, string>; out: string; err: string }[];
  cases: {
    classname: string;
    name: string;
    failure: { message: string; type: string; text: string } | null;
    error: { message: string; type: string; text: string } | null;
    skipped: string | null;
  }[];
}

let browser: Browser;
let page: Page;

beforeAll(async () => {
  browser = await startBrowser({ javaScriptEnabled: true });
  page = browser.context.pages()[0] ?? (await browser.context.newPage());
});
afterAll(async () => {
  await browser?.close();
});

/** Parses with the browser's XML parser, which reports (not repairs) malformed input. */
function parse(xml: string): Promise<Parsed> {
  return page.evaluate((text) => {
    const doc = new DOMParser().parseFromString(text, 'application/xml');
    const err = doc.getElementsByTagName('parsererror')[0];
    const attrs = (el: DomElement) => Object.fromEntries([...el.attributes].map((a) => [a.name, a.value]));
    return {
      error: err ? err.textContent : null,
      root: err ? {} : attrs(doc.documentElement),
      suites: [...doc.getElementsByTagName('testsuite')].map((s) => ({
        attrs: attrs(s),
        properties: Object.fromEntries([...s.getElementsByTagName('property')].map((p) => [p.getAttribute('name') ?? '', p.getAttribute('value') ?? ''])),
        out: s.getElementsByTagName('system-out')[0]?.textContent ?? '',
        err: s.getElementsByTagName('system-err')[0]?.textContent ?? '',
      })),
      cases: [...doc.getElementsByTagName('testcase')].map((c) => {
        const f = c.getElementsByTagName('failure')[0];
        const e = c.getElementsByTagName('error')[0];
        const s = c.getElementsByTagName('skipped')[0];
        return {
          classname: c.getAttribute('classname') ?? '',
          name: c.getAttribute('name') ?? '',
          failure: f ? { message: f.getAttribute('message') ?? '', type: f.getAttribute('type') ?? '', text: f.textContent ?? '' } : null,
          error: e ? { message: e.getAttribute('message') ?? '', type: e.getAttribute('type') ?? '', text: e.textContent ?? '' } : null,
          skipped: s ? s.getAttribute('message') ?? '' : null,
        };
      }),
    };
  }, xml);
}

describe('the parser in use', () => {
  it('rejects malformed XML (so passing tests mean well-formed output)', async () => {
    expect((await parse('<a><b></a>')).error).not.toBeNull();
    expect((await parse('<a>\u0001</a>')).error).not.toBeNull();
  });
});

describe('renderVerifyJUnit', () => {
  it('has one case per output plus the run and the inputs, with the verdict as properties', async () => {
    const x = await parse(renderVerifyJUnit(verifyMismatch));
    expect(x.error).toBeNull();
    expect(x.root).toMatchObject({ tests: '5', failures: '1', errors: '0', skipped: '0' });
    expect(x.suites[0].attrs).toMatchObject({ tests: '5', failures: '1', timestamp: '2024-05-14T09:21:07' });
    expect(x.suites[0].properties).toMatchObject({ verdict: 'mismatch', board: 'ssh://root@10.0.0.42:2222', 'model.hash': verifyMismatch.model.hash, 'compile.lossy': 'false' });
    expect(x.cases.map((c) => c.name)).toEqual(['run_joint ran', 'inputs reached the board', ...verifyMismatch.outputs.map((o) => o.name)]);
    const failed = x.cases.find((c) => c.failure)!;
    expect(failed.name).toBe('/model.24/m.0/Conv_output_0');
    expect(failed.failure!.message).toBe('4208 of 408000 elements differ by more than 0.001 + 0.001·|reference|');
    expect(failed.failure!.text).toContain('worst element: /model.24/m.0/Conv_output_0[0, 2, 24, 17]');
    expect(x.suites[0].out).toContain('Output[0]: /model.24/m.0/Conv_output_0');
  });

  it('passes every case for a match', async () => {
    const x = await parse(renderVerifyJUnit(verifyMatch));
    expect(x.root).toMatchObject({ tests: '3', failures: '0' });
    expect(x.suites[0].properties.verdict).toBe('match');
  });

  it('gives the run timing in the suite output, with the note when the average counts --warmup rounds (as text and HTML do)', async () => {
    const plain = (await parse(renderVerifyJUnit(verifyMatch))).suites[0]!;
    expect(plain.out).toContain(`run: ${describeExit(verifyMatch.run)}; ${describeTiming(verifyMatch.run.timing)}`);
    expect(plain.out).not.toContain('warm-up');
    const warm: VerifyReport = { ...verifyMatch, run: { ...verifyMatch.run, timing: { ...verifyMatch.run.timing, warmup: 3, includesWarmup: true } } };
    const [suite] = (await parse(renderVerifyJUnit(warm))).suites;
    expect(suite!.out).toContain('timing includes 3 warm-up rounds: run_joint counts them when --repeat is 1; use --repeat 2 or more for a clean average');
  });

  it('fails the inputs case with the fallback for input-error', async () => {
    const x = await parse(renderVerifyJUnit(verifyInputError));
    expect(x.root).toMatchObject({ tests: '3', failures: '2' });
    const inputs = x.cases.find((c) => c.name === 'inputs reached the board')!;
    expect(inputs.failure).toMatchObject({ type: 'input-error' });
    expect(inputs.failure!.message).toContain('data (gt/input/data.bin): data size wrong');
  });

  it('fails the run case with the assertion for run-failed, even with no output compared', async () => {
    const x = await parse(renderVerifyJUnit(verifyRunFailed));
    // The run's two cases, and the model's one output: skipped, not missing from the page.
    expect(x.root).toMatchObject({ tests: '3', failures: '1', skipped: '1' });
    const output = x.cases.find((c) => c.name === verifyRunFailed.io.outputs[0]!.name)!;
    expect(output.skipped).toContain('not compared: the run failed');
    const run = x.cases.find((c) => c.name === 'run_joint ran')!;
    expect(run.failure!.type).toBe('run-failed');
    expect(run.failure!.message).toContain("Assertion `0 == ret' failed.");
    expect(run.failure!.text).toContain('killed by SIGABRT');
    expect(x.suites[0].err).toContain('Aborted (core dumped)');
  });

  it('keeps markup, quotes and control characters from breaking the XML', async () => {
    const xml = renderVerifyJUnit(verifyHostile);
    const x = await parse(xml);
    expect(x.error).toBeNull();
    expect(xml).not.toMatch(/[\x00-\x08\x0b\x0c\x0e-\x1f]/);
    expect(x.cases.map((c) => c.name)).toContain('<script>alert(1)</script>');
    expect(x.cases.map((c) => c.name)).toContain('"><img src=x onerror=alert(2)>');
    expect(x.suites[0].properties.summary).toBe(verifyHostile.summary);
    expect(x.suites[0].properties['model.hash']).toBe('sha256:"><svg onload=alert(3)>');
    expect(x.suites[0].out).toContain('NUL ␀ and ESC red and BEL ␇ and ]]> and </pre><script>alert(4)</script>\nend'); // CRLF read as LF
    expect(x.suites[0].err).toContain('stderr ␁␂ </system-err>');
  });

  it('skips the run case when the inputs were refused before run_joint started', async () => {
    const refused: VerifyReport = { ...verifyInputError, run: { ...verifyInputError.run, exitCode: null, signal: null, timedOut: false, timing: { ...verifyInputError.run.timing, wallMs: 0 } } };
    const run = (await parse(renderVerifyJUnit(refused))).cases.find((c) => c.name === 'run_joint ran')!;
    expect(run.failure).toBeNull();
    expect(run.skipped).toBe(`run_joint was not started: ${refused.summary}`);
  });

  it('names what failed a run that exited 0 (an output not dumped), not its exit code', async () => {
    const noDump: VerifyReport = { ...verifyRunFailed, summary: 'run_joint exited 0 but did not dump output prob.', run: { ...verifyRunFailed.run, exitCode: 0, signal: null, assertions: [] } };
    const run = (await parse(renderVerifyJUnit(noDump))).cases.find((c) => c.name === 'run_joint ran')!;
    expect(run.failure!.message).toBe('run_joint exited 0 but did not dump output prob.');
  });

  it("a run that could not start (the board's run_joint gone): the run case fails with the summary, the inputs case is skipped, not passed", async () => {
    const summary = "The run failed, so nothing could be compared: evb1 (ws://10.0.0.5:7007): the agent's run_joint /usr/bin/run_joint does not exist on the board.";
    const notStarted: VerifyReport = { ...verifyRunFailed, summary, outputs: [], run: { ...verifyRunFailed.run, exitCode: null, signal: null, timedOut: false, assertions: [], timing: { ...verifyRunFailed.run.timing, wallMs: 0 } } };
    const { cases } = await parse(renderVerifyJUnit(notStarted));
    expect(cases.find((c) => c.name === 'run_joint ran')!.failure!.message).toBe(summary);
    const inputs = cases.find((c) => c.name === 'inputs reached the board')!;
    expect(inputs.failure).toBeNull();
    expect(inputs.skipped).toBe('run_joint did not start, so it read no input');
  });

  it('tells boards apart: the board in the suite name and in every class name', async () => {
    const named: VerifyReport = { ...verifyMatch, board: { ...verifyMatch.board, url: 'evb1 (ws://10.0.0.5:7007)', hostname: 'ax620a' } };
    const other: VerifyReport = { ...verifyMatch, board: { ...verifyMatch.board, url: 'ws://10.0.0.6:7007', hostname: 'ax620a' } };
    const [a, b] = [await parse(renderVerifyJUnit(named)), await parse(renderVerifyJUnit(other))];
    expect(a.suites[0].attrs.name).toBe(`axctl verify ${verifyMatch.model.path} on evb1 (ws://10.0.0.5:7007)`);
    expect(b.suites[0].attrs.name).toBe(`axctl verify ${verifyMatch.model.path} on ws://10.0.0.6:7007`);
    expect(new Set(a.cases.map((c) => c.classname))).toEqual(new Set(['axctl.verify.evb1.run', 'axctl.verify.evb1.outputs']));
    expect(new Set(b.cases.map((c) => c.classname))).toEqual(new Set(['axctl.verify.10_0_0_6_7007.run', 'axctl.verify.10_0_0_6_7007.outputs']));
  });

  it('shortens a long log to its head and tail', async () => {
    const lines = Array.from({ length: 5000 }, (_, i) => `Run NEU took an average of ${5000 + i} us (overhead 10 us)`);
    const long: VerifyReport = { ...verifyMatch, run: { ...verifyMatch.run, log: lines.join('\n') } };
    const x = await parse(renderVerifyJUnit(long));
    expect(x.suites[0].out.length).toBeLessThan(70_000);
    expect(x.suites[0].out).toContain('lines cut]');
    expect(x.suites[0].out).toContain(lines[0]);
    expect(x.suites[0].out).toContain(lines[4999]);
  });
});

describe('renderVerifyErrorJUnit', () => {
  it('reports a verify with no verdict (the board not reached) as one <error>, not a failure', async () => {
    const x = await parse(renderVerifyErrorJUnit({
      board: { url: 'ws://10.0.0.9:7007', name: 'evb9' }, model: 'build/model.joint', gt: 'build/gt', startedAt: '2024-05-14T09:21:07.000Z', durationMs: 1200, axctlVersion: '0.1.0',
      error: { code: 'CONNECT_REFUSED', message: 'ws://10.0.0.9:7007: connection refused', hint: 'is axagent running there?', exitCode: 5 },
    }));
    expect(x.error).toBeNull();
    expect(x.root).toMatchObject({ tests: '1', failures: '0', errors: '1' });
    expect(x.suites[0].attrs).toMatchObject({ name: 'axctl verify build/model.joint on evb9 (ws://10.0.0.9:7007)', errors: '1' });
    expect(x.suites[0].properties).toMatchObject({ verdict: 'none', 'error.code': 'CONNECT_REFUSED', board: 'ws://10.0.0.9:7007', 'board.name': 'evb9' });
    expect(x.cases).toEqual([expect.objectContaining({ classname: 'axctl.verify.evb9.run', failure: null, error: expect.objectContaining({ type: 'CONNECT_REFUSED', message: 'ws://10.0.0.9:7007: connection refused' }) })]);
    expect(x.cases[0].error!.text).toContain('hint: is axagent running there?');
  });
});

describe('renderDiagnoseJUnit', () => {
  it('has one case per check, skipped ones as <skipped/> with the reason, plus the verify suite', async () => {
    const x = await parse(renderDiagnoseJUnit(diagnoseQuantizationLoss));
    expect(x.error).toBeNull();
    expect(x.root).toMatchObject({ tests: '13', failures: '3', skipped: '3' });
    expect(x.suites).toHaveLength(2);
    expect(x.suites[0].attrs).toMatchObject({ tests: '10', failures: '3', skipped: '3' });
    expect(x.suites[0].properties).toMatchObject({ conclusion: 'quantization-loss', verdict: 'match', 'toolchain.version': '0.6.1.4' });
    const skipped = x.cases.filter((c) => c.skipped !== null);
    expect(skipped.map((c) => c.name)).toEqual(['1 only AX loses accuracy', '3.6 one calibration image through pulsar run', '4.2 post-processing honours layout/dtype/Q']);
    expect(skipped[0].skipped).toBe('no accuracy figure from another platform was given (--reference-accuracy)');
    const failed = x.cases.filter((c) => c.failure && c.classname === 'axctl.diagnose.checks');
    expect(failed.map((c) => c.name)).toEqual(['2 pulsar run: onnx vs joint', '3.3 quantization: onnx vs lava_joint', '3.5 layer-by-layer comparison']);
    expect(failed[0].failure!.message).toBe('resnetv15_dense0_fwd cosine 0.940912 < 0.98');
    expect(x.suites[0].out).toContain('config/resnet18.prototxt:23: warning [CALIB_PER_CHANNEL]');
    expect(x.suites[0].out).toContain('- Calibrate on more data');
  });
});
