/** The terminal reports: verdict first, the tables, the evidence per verdict, 100 columns, colour. */
import { describe, expect, it } from 'vitest';
import { renderDiagnoseText, renderVerifyText, useColor } from '../../host/report/terminal';
import { diagnoseBoardFault, diagnoseQuantizationLoss } from '../fixtures/report/diagnose';
import { verifyHostile, verifyInputError, verifyMatch, verifyMismatch, verifyRunFailed } from '../fixtures/report/verify';

const plain = { color: false };
const width = (line: string) => [...line].length;
const stripSgr = (s: string) => s.replace(/\x1b\[[0-9;]*m/g, '');

describe('renderVerifyText', () => {
  it('puts the verdict and its summary on the first line, then the compile-stage finding', () => {
    const lines = renderVerifyText(verifyMatch, plain).split('\n');
    expect(lines[0]).toMatch(/^MATCH {2}The board's outputs equal/);
    expect(lines.slice(0, 4).join('\n')).toContain('compile stage (gt/onnx vs gt/joint cosine) ok: resnetv15_dense0_fwd 0.998912');
  });

  it('lists every output with dtype, shape, exact, cosine, max |diff|, mismatched and the result', () => {
    const text = renderVerifyText(verifyMatch, plain);
    expect(text).toMatch(/output +dtype +shape +exact +cosine +max \|diff\| +mismatched +result/);
    expect(text).toMatch(/resnetv15_dense0_fwd +float32 NHWC +\[1, 1000\] +yes +1 +0 +0 +pass/);
  });

  it('shows a mismatch with its failing row, the worst element and the reasons', () => {
    const text = renderVerifyText(verifyMismatch, plain);
    expect(text.split('\n')[0]).toMatch(/^MISMATCH {2}1 of 3 outputs differs/);
    // Names too long for the table keep their full text on a line of their own.
    expect(text).toContain('\n  /model.24/m.0/Conv_output_0\n');
    expect(text).toMatch(/float32 NCHW +\[1, 255, 40, 40\] +no +0\.999441 +3\.438 +4208 \(1\.03%\) +FAIL/);
    expect(text).toMatch(/\/model\.24\/m\.0\/Conv_output_0\[0, 2, 24, 17\] \(flat 4177\): board 2\.614, simulator -0\.8237/);
    expect(text).toContain('4208 of 408000 elements differ');
    // A tiny difference reads as 1.2e-4, not 0.000122.
    expect(text).toMatch(/no +0\.999999 +1\.221e-4 +0 +pass/);
    expect(text).toContain('avg 32744 µs per round over 99 rounds (NEU 32626 µs + 22 µs overhead, AXE 43 µs + 4 µs');
  });

  it('names the inputs run_joint replaced with random data for input-error', () => {
    const text = renderVerifyText(verifyInputError, plain);
    expect(text.split('\n')[0]).toMatch(/^INPUT ERROR {2}run_joint did not get the gt input/);
    expect(text).toContain('inputs run_joint replaced with random data:\n  - data (gt/input/data.bin): data size wrong');
  });

  it('notes an output compared in part (run_joint dumped fewer rows than it has)', () => {
    const partly = { ...verifyMatch, outputs: verifyMatch.outputs.map((o) => ({ ...o, partial: { rows: 1, of: 4 } })) };
    expect(renderVerifyText(partly, plain)).toContain('\ncompared in part:\n  resnetv15_dense0_fwd: run_joint dumped 1 of its 4 rows');
    expect(renderVerifyText(verifyMatch, plain)).not.toContain('compared in part');
  });

  it('says run_joint was not started when the host refused the inputs before any run', () => {
    const refused = { ...verifyInputError, run: { ...verifyInputError.run, exitCode: null, signal: null, timedOut: false, timing: { ...verifyInputError.run.timing, wallMs: 0 } } };
    expect(renderVerifyText(refused, plain)).toContain('\nrun: run_joint was not started\n');
    // Nothing was replaced, as nothing ran: the inputs were refused before.
    expect(renderVerifyText(refused, plain)).toContain('inputs refused before the run (run_joint would have used random data):\n  - data');
    expect(renderVerifyText(refused, plain)).not.toContain('replaced with random data');
    // A run that did start keeps its exit status and timing.
    expect(renderVerifyText(verifyInputError, plain)).toMatch(/\nrun: exit 0; /);
  });

  it('quotes the assertion and the signal for run-failed', () => {
    const text = renderVerifyText(verifyRunFailed, plain);
    expect(text.split('\n')[0]).toMatch(/^RUN FAILED {2}run_joint aborted/);
    expect(text).toContain("Assertion `0 == ret'");
    expect(text).toContain('run: killed by SIGABRT; wall 702 ms');
    expect(text).toContain('compile stage: not checked');
    expect(text).toContain('no outputs were compared');
  });

  it('ends with the advice as a bulleted list', () => {
    const text = renderVerifyText(verifyInputError, plain);
    const advice = text.slice(text.indexOf('\nadvice:\n'));
    expect(advice).toContain('\n  - Feed the board the exact bytes of gt/input/data.bin');
    expect(advice).toContain('\n  - If you converted the input yourself');
  });

  it('keeps every line within 100 columns', () => {
    for (const r of [verifyMatch, verifyMismatch, verifyInputError, verifyRunFailed, verifyHostile]) {
      const long = renderVerifyText(r, plain).split('\n').filter((l) => width(l) > 100);
      expect(long).toEqual([]);
    }
  });

  it('colours the verdict and FAIL only when asked, and colour changes nothing else', () => {
    const coloured = renderVerifyText(verifyMismatch, { color: true });
    expect(coloured.startsWith('\x1b[1;31mMISMATCH\x1b[0m')).toBe(true);
    expect(coloured).toContain('\x1b[1;31mFAIL\x1b[0m');
    expect(stripSgr(coloured)).toBe(renderVerifyText(verifyMismatch, plain));
    expect(renderVerifyText(verifyMismatch, plain)).not.toContain('\x1b');
  });

  it('never passes control characters from the report to the terminal', () => {
    const text = renderVerifyText({ ...verifyHostile, summary: 'bell \u0007 esc \u001b]0;title\u0007 csi \u009b2J nul \u0000' }, plain);
    expect(text).not.toMatch(/[\x00-\x08\x0b-\x1f\x7f-\x9f]/);
    expect(text).toContain('bell ␇');
    expect(text).toContain('<script>alert(1)</script>');
  });
});

describe('useColor', () => {
  const tty = { isTTY: true };
  it('colours a terminal unless NO_COLOR is set or TERM is dumb', () => {
    expect(useColor(tty, {})).toBe(true);
    expect(useColor(tty, { NO_COLOR: '1' })).toBe(false);
    expect(useColor(tty, { TERM: 'dumb' })).toBe(false);
    expect(useColor(tty, { NO_COLOR: '' })).toBe(true);
  });
  it('does not colour a pipe or file unless FORCE_COLOR asks for it', () => {
    expect(useColor({ isTTY: false }, {})).toBe(false);
    expect(useColor({}, {})).toBe(false);
    expect(useColor({}, { FORCE_COLOR: '1' })).toBe(true);
    expect(useColor({}, { FORCE_COLOR: '0' })).toBe(false);
    expect(useColor({}, { FORCE_COLOR: '1', NO_COLOR: '1' })).toBe(false);
  });
});

describe('renderDiagnoseText', () => {
  const text = renderDiagnoseText(diagnoseQuantizationLoss, plain);

  it('starts with the conclusion and repeats it before the remedies', () => {
    const lines = text.split('\n');
    expect(lines[0]).toMatch(/^QUANTIZATION LOSS {2}Precision is lost in quantization/);
    const remedies = text.indexOf('\nremedies:\n');
    expect(text.lastIndexOf('QUANTIZATION LOSS')).toBeLessThan(remedies);
    expect(text.slice(remedies)).toContain('  - Calibrate on more data');
  });

  it('has a checks table with pass, fail and skipped and each reason', () => {
    expect(text).toContain('checks (4 passed, 3 failed, 3 skipped):');
    expect(text).toMatch(/\n {2}1 +only AX loses accuracy +skipped +no accuracy figure from another platform/);
    expect(text).toMatch(/\n {2}3\.3 +quantization: onnx vs lava_joint +fail +resnetv15_dense0_fwd cosine 0\.941200/);
    expect(text).toMatch(/\n {2}3\.4 +compile: lava_joint vs joint +pass +cosine 0\.999812/);
  });

  it('gives findings as file:line with their hints', () => {
    expect(text).toContain('config/resnet18.prototxt:23: warning [CALIB_PER_CHANNEL] calibration_strategy');
    expect(text).toContain('hint: use CALIB_STRATEGY_PER_TENSOR');
    expect(text).toContain('  info [NO_ERROR_MEASUREMENT]');
  });

  it('lists the worst layers first with lossy ones flagged, and the stage scores', () => {
    expect(text).toMatch(/resnetv15_stage4_conv3_fwd +\/resnetv15_stage4_conv3\/output_0 +0\.931200 +37\.09% +LOSSY/);
    expect(text).toContain('… and 18 more layers');
    expect(text).toMatch(/resnetv15_dense0_fwd +0\.941200 lossy +0\.940912 lossy/);
  });

  it('includes the board run it was based on', () => {
    expect(text).toContain('board run: MATCH');
  });

  it('lists what to send to the vendor for a board fault', () => {
    const fault = renderDiagnoseText(diagnoseBoardFault, plain);
    expect(fault.split('\n')[0]).toMatch(/^BOARD FAULT {2}/);
    expect(fault).toContain("send to Axera's field engineer:\n  - This report");
    expect(fault).toContain('board run: MISMATCH');
    expect(fault).toMatch(/\n {2}3 +compile-stage checks +skipped +step 2 passed/);
  });

  it("flags the board run's timing when it counts warm-up rounds (a saved verify --warmup report)", () => {
    const v = diagnoseBoardFault.verify!;
    const warm = { ...diagnoseBoardFault, verify: { ...v, run: { ...v.run, timing: { ...v.run.timing, warmup: 5, includesWarmup: true } } } };
    expect(renderDiagnoseText(warm, plain).replace(/\s+/g, ' ')).toContain('(timing includes 5 warm-up rounds: run_joint counts them when --repeat is 1; use --repeat 2 or more for a clean average)');
    expect(renderDiagnoseText(diagnoseBoardFault, plain)).not.toContain('warm-up');
  });

  it('keeps every line within 100 columns', () => {
    for (const r of [diagnoseQuantizationLoss, diagnoseBoardFault]) {
      expect(renderDiagnoseText(r, plain).split('\n').filter((l) => width(l) > 100)).toEqual([]);
    }
  });
});
