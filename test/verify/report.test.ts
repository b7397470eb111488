/** The verdict rules, the evidence and the advice of a VerifyReport, from hand-made runs. */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { RunResult } from '../../host/board/session';
import type { InputPlan, InputProblem } from '../../host/deploy/gt-inputs';
import type { OutputComparison } from '../../host/report/model';
import { postProcessingRules } from '../../host/verify/advice';
import { buildReport, decideVerdict } from '../../host/verify/report';
import { modelIoOf } from '../../host/state/model-io';
import { parseRunJointLog } from '../../shared/parsers/run-joint-log';

const LOG = readFileSync(path.join(__dirname, '../fixtures/compare/run_joint-q.log'), 'utf8');

function result(over: Partial<RunResult> = {}, log = LOG): RunResult {
  return { status: 'ok', exitCode: 0, signal: null, timedOut: false, cancelled: false, log, stderr: '', parsed: parseRunJointLog(log), outputs: [], problems: [], durationMs: 42, ...over };
}

const plan: InputPlan = { inputs: [{ name: 'data', file: '/p/gt/input/data.bin', size: 40 }], namesKnown: true, problems: [] };

function comparison(name: string, pass: boolean): OutputComparison {
  return {
    name, dtype: 'float32', shape: [1, 10], layout: 'NHWC', q: null, exact: pass, cosine: pass ? 1 : 0.99, relErr2: 0, maxAbsDiff: pass ? 0 : 0.5, meanAbsDiff: 0,
    mismatched: pass ? 0 : 3, mismatchedShare: 0, nan: { reference: 0, actual: 0 }, worst: pass ? null : { index: 7, at: [0, 7], reference: 1, actual: 1.5 },
    pass, reasons: pass ? [] : ['3 of 10 elements are outside tolerance'], tolerance: { atol: 1e-5, rtol: 1e-4, minCosine: 0.9999, exact: false },
  };
}

function report(res: RunResult, outputs: OutputComparison[] = [], problems: InputProblem[] = [], compile: Parameters<typeof buildReport>[0]['compile'] = null, rounds: { repeat?: number; warmup?: number } = {}) {
  return buildReport({
    board: { url: 'ws://board:7007', mode: 'agent', hostname: 'ax620a', agentVersion: '0.1.0', runJointVersion: '0.6.0' },
    model: { path: 'm.joint', hash: 'a'.repeat(64) },
    gt: { path: 'gt', layout: 'input-joint-onnx' },
    result: res,
    io: modelIoOf(res.parsed),
    plan,
    problems,
    outputs,
    compile,
    timeoutMs: 2000,
    ...rounds,
    startedAt: new Date(Date.now() - 100),
  });
}

describe('decideVerdict', () => {
  it('input problems win over everything, then a failed run, then the outputs', () => {
    const sizeProblem: InputProblem = { code: 'GT_INPUT_SIZE', input: 'data', file: 'x.bin', reason: 'wrong size' };
    expect(decideVerdict(result(), [sizeProblem], [comparison('prob', true)])).toBe('input-error');
    expect(decideVerdict(result({ status: 'input-error' }), [], [])).toBe('input-error');
    expect(decideVerdict(result({ status: 'failed' }), [], [])).toBe('run-failed');
    expect(decideVerdict(result(), [], [comparison('a', true), comparison('b', false)])).toBe('mismatch');
    expect(decideVerdict(result(), [], [comparison('a', true)])).toBe('match');
  });
});

describe('buildReport', () => {
  it('match: what post-processing must honour, with Q and layout; run timing from the log', () => {
    const r = report(result(), [comparison('prob', true)]);
    expect(r.verdict).toBe('match');
    expect(r.run.timing).toMatchObject({ runUs: 215, rounds: 9, wallMs: 42 });
    expect(r.run.timing.components[0]).toEqual({ name: 'NEU', avgUs: 210, overheadUs: 5 });
    expect(r.io.outputs.map((o) => [o.name, o.q])).toEqual([['/head/conv_out', 256], ['prob', null], ['logits_q', 16]]);
    const advice = r.advice.join('\n');
    expect(advice).toMatch(/Output \/head\/conv_out: sint16, NHWC layout, shape \[1, 2, 2, 3\]; .*Q=256: divide by 256/);
    expect(advice).toMatch(/Input data: uint8 NHWC \[1, 4, 4, 3\], colour space RGB: channels in R-G-B order/);
    expect(r.meta.durationMs).toBeGreaterThanOrEqual(100);
  });

  it('timing that counts warm-up rounds (--warmup with --repeat 1, or no --repeat: its default) is flagged', () => {
    const flagged = (rounds: { repeat?: number; warmup?: number }, res = result()) => report(res, [comparison('prob', true)], [], null, rounds).run.timing;
    expect(flagged({ warmup: 3 })).toMatchObject({ warmup: 3, includesWarmup: true });
    expect(flagged({ repeat: 1, warmup: 1 })).toMatchObject({ warmup: 1, includesWarmup: true });
    expect(flagged({ repeat: 2, warmup: 3 })).toMatchObject({ warmup: 3, includesWarmup: false });
    expect(flagged({ repeat: 1 })).toMatchObject({ warmup: 0, includesWarmup: false });
    expect(flagged({})).toMatchObject({ warmup: 0, includesWarmup: false });
    // No time reported (the run failed before it): nothing to flag.
    expect(flagged({ warmup: 3 }, result({ status: 'failed', exitCode: 1 }, 'run joint version: 0.5.10\n'))).toMatchObject({ runUs: null, includesWarmup: false });
  });

  it('mismatch: which outputs, how far, where', () => {
    const r = report(result(), [comparison('prob', false), comparison('logits_q', true)]);
    expect(r.verdict).toBe('mismatch');
    expect(r.summary).toMatch(/^1 of 2 outputs differs/);
    expect(r.advice.join('\n')).toMatch(/Output prob \(float32\): cosine 0\.990000, max \|diff\| 0\.5, 3 elements outside tolerance; worst at \[0, 7\] \(flat index 7\): board 1\.5, simulator 1/);
    expect(r.advice.join('\n')).toMatch(/board facts \(ax620a, run_joint 0\.6\.0, axagent 0\.1\.0\)/);
  });

  it('mismatch of a quantized integer output: how far in real values (max |diff| / Q)', () => {
    const r = report(result(), [{ ...comparison('logits_q', false), dtype: 'sint16', q: 16, maxAbsDiff: 2 }]);
    expect(r.advice.join('\n')).toMatch(/Output logits_q \(sint16 Q=16\): cosine 0\.990000, max \|diff\| 2 \(0\.125 in real values, integer \/ 16\)/);
  });

  it('mismatch against a gt/joint that contradicts gt/onnx: the gt folder is suspect, not the board', () => {
    const compile = { lossy: true, outputs: [{ name: 'prob', cosine: -0.03, relErr2: 1.4, lossy: true }] };
    const r = report(result(), [comparison('prob', false)], [], compile);
    expect(r.verdict).toBe('mismatch');
    expect(r.summary).toMatch(/that gt folder contradicts itself/);
    const advice = r.advice.join('\n');
    expect(advice).toMatch(/prob \(gt\/onnx vs gt\/joint cosine -0\.030000\)/);
    expect(advice).toMatch(/Regenerate the gt folder/);
    expect(advice).not.toMatch(/board-side fault/);
    expect(advice).not.toMatch(/Separately, the compile stage/); // the incoherent gt already says what that cosine may mean
    // Without a listing the compile stage names outputs by file ('/' as '_'): still matched.
    const byFile = { lossy: true, outputs: [{ name: 'head_prob', cosine: -0.03, relErr2: 1.4, lossy: true }] };
    expect(report(result(), [comparison('head/prob', false)], [], byFile).summary).toMatch(/contradicts itself/);
  });

  it('mismatch of an output that could not be compared (NaN cosine): no claim that the compile loses more', () => {
    const compile = { lossy: true, outputs: [{ name: 'prob', cosine: 0.95, relErr2: 0.2, lossy: true }] };
    const advice = report(result(), [{ ...comparison('prob', false), cosine: NaN }], [], compile).advice.join('\n');
    expect(advice).toMatch(/board-side fault/);
    expect(advice).not.toMatch(/loses more than the board/);
  });

  it('mismatch with a lossier compile stage: the board is still at fault, but the compile loss comes first', () => {
    const compile = { lossy: true, outputs: [{ name: 'prob', cosine: 0.9, relErr2: 0.4, lossy: true }] };
    const advice = report(result(), [comparison('prob', false)], [], compile).advice.join('\n');
    expect(advice).toMatch(/board-side fault .* neither your application nor the compile causes it/);
    expect(advice).toMatch(/the compile stage loses more than the board does \(cosine 0\.900000 from onnx to joint, against 0\.990000/);
    expect(advice).not.toMatch(/not a problem of your model/);
    // A compile stage that loses less than the board: no such line.
    const slight = { lossy: true, outputs: [{ name: 'prob', cosine: 0.995, relErr2: 0.1, lossy: true }] };
    expect(report(result(), [comparison('prob', false)], [], slight).advice.join('\n')).not.toMatch(/loses more than the board/);
  });

  it('input-error: run_joint\'s fallback, told with the local file and the sizes', () => {
    const log = LOG.replace('Using batch size 1\n', 'Using batch size 1\nread file /store/blobs/abc for input[0] data data size wrong, using random data\n');
    const r = report(result({ status: 'input-error' }, log));
    expect(r.verdict).toBe('input-error');
    expect(r.run.fallbacks).toEqual([{ input: 'data', file: '/p/gt/input/data.bin', reason: expect.stringMatching(/the file has 40 bytes, the input needs 48 as uint8 \[1,4,4,3\]/) }]);
    expect(r.summary).toMatch(/did not get the gt input \(data\)/);
  });

  it('input-error where no model input has a gt file: the gt folder is named as probably another model\'s', () => {
    const missing: InputProblem = { code: 'GT_INPUT_MISSING', input: 'data', file: null, reason: "gt/input has no file for model input 'data' (expected data.bin)" };
    const r = report(result({ status: 'input-error', log: LOG, exitCode: null }), [], [missing]);
    expect(r.verdict).toBe('input-error');
    expect(r.summary).toMatch(/None of the model's inputs \(data\) has a file in the gt folder: it is probably another model's gt/);
    expect(r.advice.join('\n')).toMatch(/its gt\/input holds data\.bin/);
  });

  it('input-error found locally (no run): the local reason is the evidence', () => {
    const missing: InputProblem = { code: 'GT_INPUT_MISSING', input: 'mask', file: null, reason: "gt/input has no file for model input 'mask' (expected mask.bin)" };
    const r = report(result({ status: 'input-error', log: '', exitCode: null, parsed: parseRunJointLog('') }), [], [missing]);
    expect(r.verdict).toBe('input-error');
    expect(r.run.fallbacks).toEqual([{ input: 'mask', file: null, reason: missing.reason }]);
    expect(r.run.exitCode).toBeNull();
  });

  it('run-failed: the assertion from stderr (an abort loses stdout), said once', () => {
    const stderr = "run_joint: run_joint.cc:691: int main(int, char**): Assertion `x == y' failed.\n";
    const r = report(result({ status: 'failed', log: '', parsed: parseRunJointLog(''), stderr, exitCode: null, signal: 'SIGABRT', problems: [{ code: 'RUN_ASSERTION', message: stderr.trim() }, { code: 'RUN_ABORTED', message: `run_joint was ended by SIGABRT: ${stderr.trim()}` }] }));
    expect(r.verdict).toBe('run-failed');
    expect(r.run.assertions).toEqual([stderr.trim()]);
    expect(r.summary).toMatch(/failed an assertion: .*Assertion `x == y' failed\.$/);
    expect(r.advice.join('\n')).not.toContain('RUN_ASSERTION');
    expect(r.advice.join('\n')).toMatch(/does not fit this board/);
  });

  it('run-failed: an assertion on the inference call points at the NPU and its driver, not at the model fitting', () => {
    const stderr = "run_joint: src/run_joint.cpp:612: int main(int, char**): Assertion `AX_ERR_NPU_JOINT_SUCCESS == AX_JOINT_RunSync(h, c, &io)' failed.\n";
    const r = report(result({ status: 'failed', log: '', parsed: parseRunJointLog(''), stderr, exitCode: null, signal: 'SIGABRT', problems: [{ code: 'RUN_ASSERTION', message: stderr.trim() }] }));
    const advice = r.advice.join('\n');
    expect(advice).toMatch(/on the inference call itself: the model loaded/);
    expect(advice).toMatch(/dmesg/);
    expect(advice).not.toMatch(/does not fit this board/);
  });

  it('run-failed: a run_joint that ends normally and lists nothing points at the configured program', () => {
    const problems = [{ code: 'MODEL_PROBE_FAILED', message: "run_joint did not list the model's inputs and outputs: exit 0" }];
    const r = report(result({ status: 'failed', log: '', parsed: parseRunJointLog(''), exitCode: 0, problems }));
    expect(r.verdict).toBe('run-failed');
    expect(r.advice.join('\n')).toMatch(/is Axera's run_joint and that `run_joint MODEL\.joint --repeat 1` prints Input\[0\]\/Output\[0\] blocks/);
  });

  it('run-failed: a timeout says the limit and what to do', () => {
    const r = report(result({ status: 'failed', timedOut: true, exitCode: null, signal: 'SIGTERM', problems: [{ code: 'RUN_TIMEOUT', message: 'run_joint did not finish within 2000 ms and was stopped' }] }));
    expect(r.summary).toMatch(/did not finish within 2 s/);
    expect(r.advice.join('\n')).toMatch(/--timeout/);
  });
});

describe('postProcessingRules', () => {
  it('names the colour order for BGR and warns not to normalise uint8 pixels twice', () => {
    const rules = postProcessingRules({ inputs: [{ name: 'img', shape: [1, 2, 2, 3], layout: 'NHWC', dtype: 'uint8', colorSpace: 'BGR' }], outputs: [] });
    expect(rules[0]).toMatch(/B-G-R order, raw 0–255 pixels .*do not normalise again/);
  });

  it("names an integer input's Q, the scale its real values are fed with", () => {
    const rules = postProcessingRules({ inputs: [{ name: 'feat', shape: [1, 8], layout: 'NCHW', dtype: 'sint16', colorSpace: 'FeatureMap', q: 256 }], outputs: [] });
    expect(rules[0]).toContain('sint16 NCHW [1, 8]');
    expect(rules[0]).toContain('quantized with Q=256: feed round(real value × 256)');
  });
});
