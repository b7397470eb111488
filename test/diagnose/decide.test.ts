/**
 * The decision tree on its own: a table of check outcomes and the conclusion each must give,
 * the remedies per conclusion, the exit code, and an exhaustive sweep over every combination
 * of outcomes for the rules that must always hold.
 */
import { describe, expect, it } from 'vitest';
import { decide, diagnoseExitCode, NEEDS, REMEDY, type BoardOutcome, type DecisionInput, type Outcome, type PlatformAnswer } from '../../host/diagnose';
import type { Check, Conclusion } from '../../host/report/model';

type Row = [string, Partial<DecisionInput>, Conclusion];

const TABLE: Row[] = [
  ['nothing measured', {}, 'inconclusive'],
  ['a clean config alone', { configLint: 'pass' }, 'inconclusive'],
  ['a config with errors alone', { configLint: 'fail' }, 'inconclusive'],
  ['every platform loses accuracy', { platforms: 'all-platforms' }, 'model-or-platform'],
  ['every platform loses, and the simulator too', { platforms: 'all-platforms', simulator: 'fail', quantization: 'fail' }, 'model-or-platform'],
  ['onnx vs lava low and onnx vs joint low', { simulator: 'fail', quantization: 'fail' }, 'quantization-loss'],
  ['only the lava measured, low', { quantization: 'fail' }, 'quantization-loss'],
  ['lava fine, joint low', { simulator: 'fail', quantization: 'pass' }, 'compile-loss'],
  ['only the joint known, low', { simulator: 'fail' }, 'toolchain-loss'],
  ['joint low, layer table fine, no lava', { simulator: 'fail', layers: 'pass' }, 'toolchain-loss'],
  ['joint low, layer table (onnx vs lava) low', { simulator: 'fail', layers: 'fail' }, 'quantization-loss'],
  ['joint low, lava fine, layer table low: the measured lava wins', { simulator: 'fail', quantization: 'pass', layers: 'fail' }, 'compile-loss'],
  ['lava low but joint fine: contradiction', { simulator: 'pass', quantization: 'fail' }, 'inconclusive'],
  ['board differs, simulator fine', { simulator: 'pass', board: 'mismatch' }, 'board-fault'],
  ['board differs, simulator unknown', { board: 'mismatch' }, 'board-fault'],
  ['quantization loss and a board mismatch: the earlier stage first', { simulator: 'fail', quantization: 'fail', board: 'mismatch' }, 'quantization-loss'],
  ['only AX bad, simulator fine, board equal', { platforms: 'only-ax', simulator: 'pass', board: 'match' }, 'postprocessing-suspect'],
  ['only AX bad, simulator fine, no board', { platforms: 'only-ax', simulator: 'pass' }, 'inconclusive'],
  ['only AX bad, nothing measured', { platforms: 'only-ax' }, 'inconclusive'],
  ['only AX bad, board equal, simulator unknown', { platforms: 'only-ax', board: 'match' }, 'inconclusive'],
  ['simulator fine, board equal, no complaint', { simulator: 'pass', board: 'match' }, 'ok'],
  ['simulator fine', { simulator: 'pass' }, 'ok'],
  ['lava fine only', { quantization: 'pass' }, 'ok'],
  ['board equal only', { board: 'match' }, 'ok'],
  ['simulator fine, an inner layer below 0.98', { simulator: 'pass', layers: 'fail' }, 'ok'],
  ['layer table low, nothing else measured', { layers: 'fail' }, 'inconclusive'],
  ['simulator fine, board run failed', { simulator: 'pass', board: 'run-failed' }, 'inconclusive'],
  ['simulator fine, board got random inputs', { simulator: 'pass', board: 'input-error' }, 'inconclusive'],
  ['simulator fine, board unreachable', { simulator: 'pass', board: 'unreachable' }, 'inconclusive'],
  ['simulator fine (from a gt), refused run config', { simulator: 'pass', outputConfig: 'fail' }, 'inconclusive'],
  ['everything fine but the config has errors', { platforms: 'only-ax', simulator: 'pass', board: 'match', configLint: 'fail' }, 'inconclusive'],
  ['simulator fine, calibration image low', { simulator: 'pass', calibrationImage: 'fail' }, 'inconclusive'],
  ['joint low, calibration image fine', { simulator: 'fail', quantization: 'fail', calibrationImage: 'pass' }, 'quantization-loss'],
];

describe('decide: the table of cases', () => {
  it.each(TABLE)('%s', (_name, input, conclusion) => {
    const d = decide(input);
    expect(d.conclusion).toBe(conclusion);
    expect(d.summary.length).toBeGreaterThan(20);
    expect(d.remedies.length).toBeGreaterThan(0);
  });
});

describe('decide: remedies and summaries', () => {
  it('quantization loss: the guide\'s remedies in order, worst layers named', () => {
    const d = decide({ simulator: 'fail', quantization: 'fail', worstLayers: ['conv9', 'conv10'] });
    expect(d.remedies).toEqual([
      REMEDY.moreCalibration, REMEDY.strategyPairs, `${REMEDY.int16} Worst layers here: conv9, conv10.`, REMEDY.errorMeasurement,
      REMEDY.siluToRelu, REMEDY.checkCalibrationImage, REMEDY.qat,
    ]);
    expect(d.remedies.join(' ')).toMatch(/PER_TENSOR.*MIN_MAX.*MSE_CLIPPING/);
    expect(d.remedies.join(' ')).toContain('input_feature_type: UINT16 weight_type: INT8');
  });

  it('a calibration image that scores well puts "calibration data unlike your data" first', () => {
    const d = decide({ simulator: 'fail', quantization: 'fail', calibrationImage: 'pass' });
    expect(d.remedies[0]).toBe(REMEDY.calibrationUnlikeTraining);
    expect(d.summary).toContain('calibration data is probably unlike your data');
  });

  it('a calibration image that loses too puts the quantization settings first', () => {
    const d = decide({ simulator: 'fail', quantization: 'fail', calibrationImage: 'fail' });
    expect(d.remedies[0]).toBe(REMEDY.strategyPairs);
    expect(d.remedies).not.toContain(REMEDY.checkCalibrationImage);
  });

  it('no error-measurement advice once the layer table exists; its evidence goes into the summary', () => {
    const d = decide({ simulator: 'fail', quantization: 'fail', layers: 'fail', details: { layers: 'the first is conv3 (0.97)' } });
    expect(d.remedies).not.toContain(REMEDY.errorMeasurement);
    expect(d.summary).toContain('Layer by layer: the first is conv3 (0.97).');
  });

  it('config problems come before every other remedy and are named in the summary', () => {
    const d = decide({ simulator: 'fail', quantization: 'fail', outputConfig: 'fail', configLint: 'fail' });
    expect(d.remedies.slice(0, 2)).toEqual([REMEDY.useOutputConfig, REMEDY.fixConfigFindings]);
    expect(d.summary).toContain('step 3.1');
    expect(d.summary).toContain('step 3.2');
  });

  it('toolchain loss says what would determine the stage', () => {
    const d = decide({ simulator: 'fail', details: { simulator: 'out cosine 0.89' } });
    expect(d.summary).toContain('pass --lava-joint');
    expect(d.summary).toContain('(out cosine 0.89)');
    expect(d.remedies[0]).toBe(REMEDY.passLava);
  });

  it('compile loss: find the layer, 16 bits as a workaround, then Axera', () => {
    expect(decide({ simulator: 'fail', quantization: 'pass' }).remedies).toEqual([REMEDY.compileLayer, REMEDY.compileInt16, REMEDY.compileVendor]);
  });

  it('model-or-platform: retrain, and quantize like the other platforms', () => {
    const d = decide({ platforms: 'all-platforms', simulator: 'fail' });
    expect(d.remedies.slice(0, 2)).toEqual([REMEDY.retrain, REMEDY.samePrecision]);
    expect(d.summary).toContain('Also: pulsar run shows precision loss on AX itself');
  });

  it('board fault escalates; a board mismatch found beside an earlier loss escalates too', () => {
    const fault = decide({ simulator: 'pass', board: 'mismatch', details: { board: 'out: 10 element(s) differ' } });
    expect(fault.escalate).toBe(true);
    expect(fault.remedies).toEqual([REMEDY.boardNothingToChange, REMEDY.boardVersions]);
    expect(fault.summary).toContain('out: 10 element(s) differ');
    const both = decide({ simulator: 'fail', quantization: 'fail', board: 'mismatch' });
    expect(both.escalate).toBe(true);
    expect(both.summary).toContain('Also: the board differs from the simulator');
    expect(decide({ simulator: 'pass', board: 'match' }).escalate).toBe(false);
  });

  it('post-processing suspect: the listing, the inputs, the bad cases', () => {
    const d = decide({ platforms: 'only-ax', simulator: 'pass', board: 'match' });
    expect(d.remedies).toEqual([REMEDY.postListing, REMEDY.postInputs, REMEDY.postBadCase]);
    expect(d.remedies[0]).toContain('Q');
  });

  it('inconclusive names what is missing', () => {
    expect(decide({ platforms: 'only-ax' }).remedies).toEqual([NEEDS.simulator, NEEDS.board]);
    expect(decide({ configLint: 'pass' }).remedies).toEqual([NEEDS.simulator, NEEDS.board, NEEDS.platforms]);
    expect(decide({ simulator: 'pass', board: 'unreachable' }).remedies).toContain(NEEDS.board);
  });

  it('a config with errors and nothing measured: fix the config', () => {
    const d = decide({ configLint: 'fail' });
    expect(d.remedies).toEqual([REMEDY.fixConfigFindings]);
    expect(d.summary).toContain('errors that pulsar run cannot see');
  });
});

describe('decide: rules over every combination of outcomes', () => {
  const outcomes: Outcome[] = ['pass', 'fail', 'skipped'];
  const platforms: (PlatformAnswer | null)[] = [null, 'only-ax', 'all-platforms'];
  const boards: (BoardOutcome | null)[] = [null, 'match', 'mismatch', 'input-error', 'run-failed', 'unreachable'];

  function* all(): Generator<DecisionInput> {
    for (const p of platforms) for (const board of boards) for (const simulator of outcomes) for (const quantization of outcomes)
      for (const layers of outcomes) for (const configLint of outcomes) for (const outputConfig of outcomes) for (const calibrationImage of outcomes)
        yield { platforms: p, board, simulator, quantization, layers, configLint, outputConfig, calibrationImage };
  }

  it('always one conclusion with a summary and remedies, and the tree\'s invariants', () => {
    let n = 0;
    for (const input of all()) {
      n++;
      const d = decide(input);
      const where = JSON.stringify(input);
      expect(d.summary, where).not.toBe('');
      expect(d.remedies.length, where).toBeGreaterThan(0);
      expect(new Set(d.remedies).size, where).toBe(d.remedies.length);
      expect(d.escalate, where).toBe(input.board === 'mismatch');
      if (input.platforms === 'all-platforms') expect(d.conclusion, where).toBe('model-or-platform');
      if (d.conclusion === 'ok') {
        expect([input.simulator, input.quantization, input.configLint, input.outputConfig, input.calibrationImage], where).not.toContain('fail');
        expect(['mismatch', 'input-error', 'run-failed', 'unreachable'], where).not.toContain(input.board);
      }
      if (d.conclusion === 'postprocessing-suspect') expect([input.simulator, input.board, input.platforms], where).toEqual(['pass', 'match', 'only-ax']);
      if (d.conclusion === 'compile-loss') expect([input.simulator, input.quantization], where).toEqual(['fail', 'pass']);
      if (input.simulator === 'fail' && input.platforms !== 'all-platforms') {
        expect(['quantization-loss', 'compile-loss', 'toolchain-loss'], where).toContain(d.conclusion);
      }
    }
    expect(n).toBe(3 * 6 * 3 ** 6);
  });
});

describe('diagnoseExitCode', () => {
  const check = (status: Check['status'], evidence?: Record<string, unknown>): Check => ({ step: '2', name: 'x', status, reason: 'r', ...(evidence && { evidence }) });
  const cases: [string, Conclusion, Check[], BoardOutcome | null, number][] = [
    ['ok', 'ok', [check('pass')], 'match', 0],
    ['ok with an inner layer below 0.98', 'ok', [check('fail')], null, 0],
    ['a loss', 'quantization-loss', [check('fail')], null, 1],
    ['a board fault', 'board-fault', [check('fail')], 'mismatch', 1],
    ['post-processing suspect', 'postprocessing-suspect', [check('pass')], 'match', 1],
    ['inconclusive, nothing failed', 'inconclusive', [check('skipped')], null, 0],
    ['inconclusive, a config error', 'inconclusive', [check('fail')], null, 1],
    ['board unreachable', 'inconclusive', [check('skipped')], 'unreachable', 5],
    ['run_joint failed', 'inconclusive', [check('fail')], 'run-failed', 4],
    ['random inputs', 'inconclusive', [check('fail')], 'input-error', 3],
    ['a pulsar run failed', 'inconclusive', [check('skipped', { toolError: 'PULSAR_RUN_FAILED' })], null, 2],
    ['a loss wins over an unreachable board', 'compile-loss', [check('fail')], 'unreachable', 1],
  ];
  it.each(cases)('%s', (_name, conclusion, checks, board, code) => {
    expect(diagnoseExitCode(conclusion, checks, board)).toBe(code);
  });
});
