import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeModel } from '../../scripts/sim/make-gt';
import { lines, runSim } from './helpers';
import { tempDirs } from '../temp-dirs';

const tmp = tempDirs('axsim-test-');
let classifier: string;

beforeAll(() => {
  const dir = tmp.make();
  classifier = path.join(dir, 'classifier.joint');
  makeModel('classifier', classifier);
});
afterAll(() => tmp.cleanup());

async function runTask(args: string[], fault?: string): Promise<{ us: number; rounds: number; neu: string }> {
  const r = await runSim([classifier, ...args], { fault });
  expect(r.code).toBe(0);
  const out = lines(r.stdout);
  const m = /^Run task took (-?\d+) us \((-?\d+) rounds for average\)$/.exec(out.find((l) => l.startsWith('Run task')) ?? '');
  expect(m).not.toBeNull();
  return { us: Number(m?.[1]), rounds: Number(m?.[2]), neu: out[out.findIndex((l) => l.startsWith('Run task')) + 1] };
}

describe('run-joint rounds and averages', () => {
  it('counts N-1 rounds for --repeat N > 1 (the first round is not timed)', async () => {
    expect((await runTask(['--repeat', '100'])).rounds).toBe(99);
    expect((await runTask(['--repeat=2'])).rounds).toBe(1);
  });

  it('counts one round for the default --repeat 1', async () => {
    const t = await runTask([]);
    expect(t.rounds).toBe(1);
    expect(t.neu).toBe('\tRun NEU took an average of 5378 us (overhead 10 us)');
  });

  it('with --repeat 0 runs nothing and prints zeros (the board divides by zero without trapping)', async () => {
    const t = await runTask(['--repeat', '0']);
    expect(t).toEqual({ us: 0, rounds: 0, neu: '\tRun NEU took an average of 0 us (overhead 0 us)' });
  });

  it('a negative --repeat is printed as given', async () => {
    const t = await runTask(['--repeat', '-3']);
    expect(t.rounds).toBe(-3);
    expect(t.neu).toBe('\tRun NEU took an average of 0 us (overhead 0 us)');
  });

  it('with --repeat 1 the warm-up rounds fall inside the timing', async () => {
    const single = await runTask(['--repeat', '1', '--warmup', '3'], 'slow=50');
    expect(single.rounds).toBe(1);
    expect(single.us).toBeGreaterThanOrEqual(4 * (50000 + 5388));
  });

  it('warm-up rounds do not change the round count', async () => {
    const several = await runTask(['--repeat', '3', '--warmup', '3'], 'slow=50');
    expect(several.rounds).toBe(2);
    expect(several.us).toBeGreaterThanOrEqual(50000 + 5388);
  });
});
