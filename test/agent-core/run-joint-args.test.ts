import { describe, expect, it } from 'vitest';
import { buildRunJointArgs, checkExtraArgs } from '../../shared/run/args';
import { UsageError } from '../../shared/errors';

function codeOf(run: () => unknown): string {
  try {
    run();
  } catch (err) {
    expect(err).toBeInstanceOf(UsageError);
    return (err as UsageError).code;
  }
  throw new Error('expected a UsageError');
}

const base = { modelPath: '/s/blobs/m', inputPaths: ['/s/blobs/b', '/s/blobs/a'], outDir: '/s/jobs/job-1/out', repeat: 10, warmup: 2 };

describe('buildRunJointArgs', () => {
  it('puts the model first, inputs joined by ; in the given order, then the fixed options', () => {
    expect(buildRunJointArgs(base)).toEqual([
      '/s/blobs/m', '--data', '/s/blobs/b;/s/blobs/a', '--bin-out-dir', '/s/jobs/job-1/out', '--repeat', '10', '--warmup', '2',
    ]);
  });

  it('appends allowed extra options, normalised to separate words', () => {
    const args = buildRunJointArgs({
      ...base,
      extra: ['--mode=1_1', '--stride_w', '16', '--override_batch_size', '4', '--wbt_index=0', '--cache-mode', 'NONE-CACHED', '--manual_alloc', '--enable_trunc'],
    });
    expect(args.slice(9)).toEqual(['--mode', '1_1', '--stride_w', '16', '--override_batch_size', '4', '--wbt_index', '0', '--cache-mode', 'NONE-CACHED', '--manual_alloc', '--enable_trunc']);
  });

  it('refuses an input path run_joint would split', () => {
    expect(codeOf(() => buildRunJointArgs({ ...base, inputPaths: ['/s/a;b'] }))).toBe('PATH_HAS_SEMICOLON');
  });
});

describe('checkExtraArgs', () => {
  it.each([
    [['--data', '/etc/passwd']],
    [['-d', 'x']],
    [['--bin-out-dir', '/tmp']],
    [['--repeat', '5']],
    [['--warmup=1']],
    [['/etc/passwd']],
    [['../model.joint']],
    [['--Mode', '1_1']],
    [['-p']],
    [['--mode;rm', '-rf']],
    [['--help']],
    // Names of Object.prototype members are not options either.
    [['__proto__', '1']],
    [['constructor', 'x']],
    [['toString']],
    [['hasOwnProperty']],
  ])('refuses %j as OPTION_NOT_ALLOWED', (extra) => {
    expect(codeOf(() => checkExtraArgs(extra))).toBe('OPTION_NOT_ALLOWED');
  });

  it.each([
    [['--mode', '4_4']],
    [['--mode']],
    [['--mode', '/tmp/x']],
    [['--cache-mode', 'cached']],
    [['--stride_w', '-1']],
    [['--stride_w', '1e3']],
    [['--stride_w', '0x10']],
    [['--override_batch_size', '0']],
    [['--wbt_index', '256']],
    [['--wbt_index', ' 1']],
    [['--manual_alloc=1']],
  ])('refuses %j as OPTION_BAD_VALUE', (extra) => {
    expect(codeOf(() => checkExtraArgs(extra))).toBe('OPTION_BAD_VALUE');
  });

  it('refuses an option given twice', () => {
    expect(codeOf(() => checkExtraArgs(['--mode', '1_1', '--mode=disable']))).toBe('OPTION_REPEATED');
  });

  it('names what is allowed and why a fixed option is not', () => {
    try {
      checkExtraArgs(['--repeat', '3']);
    } catch (err) {
      expect((err as UsageError).message).toContain('repeat field');
      expect((err as UsageError).hint).toContain('--cache-mode');
      return;
    }
    throw new Error('expected a UsageError');
  });
});
