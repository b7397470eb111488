import { describe, expect, it } from 'vitest';
import { RunQueue } from '../../agent/run/queue';
import { AxError } from '../../shared/errors';

/** A task the test finishes by hand. */
function gate() {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => (open = resolve));
  return { open, opened };
}

describe('RunQueue', () => {
  it('runs one task at a time, first come first served, telling waiters their position', async () => {
    const queue = new RunQueue();
    const order: string[] = [];
    const positions: Record<string, number[]> = { a: [], b: [], c: [] };
    const gates = { a: gate(), b: gate(), c: gate() };
    const start = (name: 'a' | 'b' | 'c') =>
      queue.run(async () => {
        order.push(`start ${name}`);
        await gates[name].opened;
        order.push(`end ${name}`);
        return name;
      }, { onPosition: (p) => positions[name].push(p) });
    const runs = [start('a'), start('b'), start('c')];
    await Promise.resolve();
    expect(queue.waitingCount).toBe(2);
    expect(positions).toEqual({ a: [], b: [1], c: [2] });
    gates.a.open();
    await runs[0];
    await new Promise((resolve) => setImmediate(resolve));
    expect(positions).toEqual({ a: [], b: [1, 0], c: [2, 1] });
    gates.b.open();
    gates.c.open();
    expect(await Promise.all(runs)).toEqual(['a', 'b', 'c']);
    expect(order).toEqual(['start a', 'end a', 'start b', 'end b', 'start c', 'end c']);
    expect(positions.c).toEqual([2, 1, 0]);
    expect(queue.waitingCount).toBe(0);
  });

  it('takes a cancelled waiting task out of the line and moves those behind it up', async () => {
    const queue = new RunQueue();
    const first = gate();
    const controller = new AbortController();
    const cPositions: number[] = [];
    let bRan = false;
    const a = queue.run(() => first.opened);
    const b = queue.run(async () => {
      bRan = true;
    }, { signal: controller.signal });
    const c = queue.run(async () => 'c', { onPosition: (p) => cPositions.push(p) });
    controller.abort();
    const err = await b.catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AxError);
    expect((err as AxError).code).toBe('RUN_CANCELLED');
    expect(queue.waitingCount).toBe(1);
    expect(cPositions).toEqual([2, 1]);
    first.open();
    await a;
    expect(await c).toBe('c');
    expect(bRan).toBe(false);
  });

  it('refuses a task whose signal is already aborted, and survives a failing task', async () => {
    const queue = new RunQueue();
    const controller = new AbortController();
    controller.abort();
    await expect(queue.run(async () => 1, { signal: controller.signal })).rejects.toMatchObject({ code: 'RUN_CANCELLED' });
    await expect(queue.run(async () => {
      throw new Error('boom');
    })).rejects.toThrow('boom');
    expect(await queue.run(async () => 'next')).toBe('next');
  });
});
