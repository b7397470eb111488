/** run_joint's output lines are streamed only while the link keeps up; the rest are counted, and said so. */
import { describe, expect, it } from 'vitest';
import { MAX_UNSENT_LINE_BYTES, QueuedOperation } from '../../agent/session/queued-op';
import type { OperationHost } from '../../agent/session/session';
import type { Envelope } from '../../shared/protocol/envelope';

/** A host whose transport takes nothing until drain() (send() pending, as over a slow link). */
function slowHost() {
  const sent: Envelope[] = [];
  let waiting: (() => void)[] = [];
  const host = {
    send: (env: Envelope) => {
      sent.push(env);
      return new Promise<void>((resolve) => waiting.push(resolve));
    },
    end: () => undefined,
    fail: () => undefined,
  } as unknown as OperationHost;
  const drain = async () => {
    const all = waiting;
    waiting = [];
    for (const resolve of all) resolve();
    await new Promise((r) => setImmediate(r));
  };
  const lines = () => sent.flatMap((e) => (e.body === 'runEvent' && e.runEvent.event === 'line' ? [e.runEvent.line.text] : []));
  return { host, drain, lines };
}

class Printing extends QueuedOperation {
  async start(): Promise<void> {}
  print(text: string): void {
    this.line('stdout', text);
  }
}

describe('QueuedOperation output lines', () => {
  it('stops streaming past MAX_UNSENT_LINE_BYTES unsent, then says how many lines it left out', async () => {
    const { host, drain, lines } = slowHost();
    const op = new Printing(host, 7, 'run');
    const line = 'x'.repeat(1000);
    const total = 10_000; // 10 MB printed while the link takes nothing
    for (let i = 0; i < total; i++) op.print(line);
    const streamed = lines().length;
    // Memory held for lines is bounded by the limit, not by what run_joint printed.
    expect(streamed * line.length).toBeLessThanOrEqual(MAX_UNSENT_LINE_BYTES + line.length + 16);
    expect(streamed).toBeGreaterThan(500);
    await drain();
    op.print('after');
    const after = lines().slice(streamed);
    expect(after[0]).toBe(`axagent: ${total - streamed} lines of run_joint's output not streamed (printed faster than the link carries them); the run's result has its log`);
    expect(after[1]).toBe('after');
  });

  it('streams every line while the link keeps up', async () => {
    const { host, drain, lines } = slowHost();
    const op = new Printing(host, 7, 'run');
    for (let i = 0; i < 3000; i++) {
      op.print(`line ${i}`);
      if (i % 100 === 99) await drain();
    }
    expect(lines()).toHaveLength(3000);
    expect(lines().some((l) => l.startsWith('axagent:'))).toBe(false);
  });
});
