import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CmdlineParser, lexicalCastInt } from '../../scripts/sim/cmdline';
import { parseFaults } from '../../scripts/sim/faults';
import { dumpFileName, MODEL_MAGIC, parseModel, serializeModel } from '../../scripts/sim/model';
import { cIntDiv, formatFixed2 } from '../../scripts/sim/printf';
import { readyModel } from '../../scripts/sim/ready-models';
import { splitString } from '../../scripts/sim/run-joint';

describe('formatFixed2 (printf "%.2f")', () => {
  it('rounds exact binary ties to even like glibc, unlike toFixed', () => {
    expect(formatFixed2(0.125)).toBe('0.12');
    expect((0.125).toFixed(2)).toBe('0.13');
    expect(formatFixed2(0.375)).toBe('0.38');
    expect(formatFixed2(2.5 / 100)).toBe('0.03'); // 0.025 is slightly above the tie in binary
    expect(formatFixed2(1.005)).toBe('1.00'); // 1.005 is slightly below in binary
  });

  it('formats ordinary values like the real log', () => {
    expect(formatFixed2(569690 / 1000)).toBe('569.69');
    expect(formatFixed2(0)).toBe('0.00');
    expect(formatFixed2(-0.001)).toBe('-0.00');
  });

  it('agrees with toFixed wherever the value is not an exact tie', () => {
    fc.assert(fc.property(fc.integer({ min: 0, max: 4294967295 }), (us) => {
      const x = us / 1000;
      const scaled = x * 100;
      fc.pre(Math.abs(scaled - Math.floor(scaled) - 0.5) > 1e-6);
      return formatFixed2(x) === x.toFixed(2);
    }));
  });
});

describe('cIntDiv', () => {
  it('truncates toward zero and yields 0 for a division by zero (Arm)', () => {
    expect(cIntDiv(7, 2)).toBe(3);
    expect(cIntDiv(-7, 2)).toBe(-3);
    expect(cIntDiv(5, 0)).toBe(0);
  });
});

describe('splitString (run_joint split_string with ";")', () => {
  it('splits like the C++ loop', () => {
    expect(splitString('', ';')).toEqual([]);
    expect(splitString('a', ';')).toEqual(['a']);
    expect(splitString('a;b', ';')).toEqual(['a', 'b']);
    expect(splitString('a;', ';')).toEqual(['a']);
    expect(splitString(';a', ';')).toEqual(['', 'a']);
    expect(splitString('a;;b', ';')).toEqual(['a', '', 'b']);
    expect(splitString(';', ';')).toEqual(['']);
  });
});

describe('CmdlineParser', () => {
  const parser = (): CmdlineParser =>
    new CmdlineParser().addString('data', 'd', 'd').addInt('repeat', '', 'r', 1).addFlag('manual_alloc', 'p', 'p').addFlag('enable_trunc', 't', 't');

  it('takes bundled short flags and a value for the last letter', () => {
    const p = parser();
    expect(p.parseCheck('x', ['-ptd', 'f.bin', 'model'])).toBeNull();
    expect([p.exist('manual_alloc'), p.exist('enable_trunc'), p.get('data'), p.rest()]).toEqual([true, true, 'f.bin', ['model']]);
  });

  it('keeps the last value of a repeated option and skips a lone "-"', () => {
    const p = parser();
    expect(p.parseCheck('x', ['--repeat', '3', '-', '--repeat=5'])).toBeNull();
    expect(p.get('repeat')).toBe(5);
    expect(p.rest()).toEqual([]);
  });

  it('reports the first of several errors', () => {
    const r = parser().parseCheck('x', ['--nope', '-q']);
    expect(r?.exit).toBe(1);
    expect(r?.stderr.split('\n')[0]).toBe('undefined option: --nope');
  });

  it('reads ints like stringstream >> int with the whole string consumed', () => {
    expect(lexicalCastInt('42')).toBe(42);
    expect(lexicalCastInt('  -7')).toBe(-7);
    expect(lexicalCastInt('+3')).toBe(3);
    expect(lexicalCastInt('2147483647')).toBe(2147483647);
    expect(lexicalCastInt('2147483648')).toBeUndefined();
    expect(lexicalCastInt('4 ')).toBeUndefined();
    expect(lexicalCastInt('0x10')).toBeUndefined();
    expect(lexicalCastInt('')).toBeUndefined();
  });
});

describe('model format', () => {
  it('round-trips the ready models', () => {
    for (const kind of ['classifier', 'multi-input'] as const) {
      const parsed = parseModel(Buffer.from(serializeModel(readyModel(kind))));
      expect(parsed.ok && parsed.model.inputs.length).toBe(readyModel(kind).inputs.length);
    }
  });

  it('says why a file is not a model', () => {
    expect(parseModel(Buffer.from('hello'))).toEqual({ ok: false, reason: expect.stringContaining('magic line') });
    expect(parseModel(Buffer.from(`${MODEL_MAGIC}{`))).toEqual({ ok: false, reason: expect.stringContaining('malformed') });
    const noInputs = { ...readyModel('classifier'), inputs: [] };
    expect(parseModel(Buffer.from(serializeModel(noInputs)))).toEqual({ ok: false, reason: expect.stringContaining('inputs') });
    const badDtype = { ...readyModel('classifier'), outputs: [{ ...readyModel('classifier').outputs[0], dtype: 'int8' }] };
    expect(parseModel(Buffer.from(serializeModel(badDtype as never)))).toEqual({ ok: false, reason: expect.stringContaining('outputs[0].dtype') });
  });

  it('names dumps with every / replaced', () => {
    expect(dumpFileName('head/bbox/pred')).toBe('head_bbox_pred.bin');
    expect(dumpFileName('plain')).toBe('plain.bin');
  });
});

describe('parseFaults', () => {
  it('reads lists and values', () => {
    expect(parseFaults(undefined).hang).toBe('none');
    expect(parseFaults('slow=25, no-dump=2,hang-ignore-term')).toMatchObject({ slowMs: 25, noDump: 2, hang: 'ignore-term' });
    expect(parseFaults('no-dump').noDump).toBe(0);
  });

  it('refuses what it does not know', () => {
    expect(() => parseFaults('slow')).toThrow(/unknown fault 'slow'/);
    expect(() => parseFaults('slow=fast')).toThrow(/whole number/);
    expect(() => parseFaults('perturb=1')).toThrow(/unknown fault/);
  });
});
