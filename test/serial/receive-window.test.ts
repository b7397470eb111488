import { describe, expect, it } from 'vitest';
import { ReceiveWindow } from '../../shared/serial/receive-window';

const payload = (n: number) => new Uint8Array([n]);

function drain(w: ReceiveWindow, accept = () => true): { got: number[]; fin: boolean } {
  const got: number[] = [];
  let fin = false;
  w.deliver(
    (p) => {
      got.push(p[0]!);
      return accept();
    },
    () => (fin = true),
  );
  return { got, fin };
}

describe('ReceiveWindow', () => {
  it('holds frames after a gap and delivers them in order once it fills', () => {
    const w = new ReceiveWindow(8);
    expect(w.accept(1, 10, payload(1), false)).toBe('new');
    expect(w.accept(2, 11, payload(2), false)).toBe('new');
    expect(w.hasGap).toBe(true);
    expect(drain(w).got).toEqual([]);
    expect(w.ackInfo()).toEqual({ next: 0, sack: 0b110, echo: 11 });
    w.accept(0, 12, payload(0), false);
    expect(drain(w).got).toEqual([0, 1, 2]);
    expect(w.ackInfo()).toEqual({ next: 3, sack: 0, echo: 12 });
  });

  it('counts repeats and frames already delivered as duplicates, outside the window as outside', () => {
    const w = new ReceiveWindow(4);
    w.accept(0, 0, payload(0), false);
    drain(w);
    expect(w.accept(0, 1, payload(0), false)).toBe('duplicate');
    w.accept(2, 2, payload(2), false);
    expect(w.accept(2, 3, payload(2), false)).toBe('duplicate');
    expect(w.accept(9, 4, payload(9), false)).toBe('outside');
    expect(w.ackInfo().echo).toBe(4);
  });

  it('stops delivering when the consumer is full and keeps the rest held (SACK bit 0)', () => {
    const w = new ReceiveWindow(8);
    for (let s = 0; s < 3; s++) w.accept(s, s, payload(s), false);
    expect(drain(w, () => false).got).toEqual([0]);
    expect(w.ackInfo()).toEqual({ next: 1, sack: 0b11, echo: 2 });
    expect(drain(w).got).toEqual([1, 2]);
  });

  it('ends at the FIN and refuses anything after it', () => {
    const w = new ReceiveWindow(8);
    w.accept(0, 0, payload(0), false);
    w.accept(1, 1, new Uint8Array(0), true);
    expect(drain(w)).toEqual({ got: [0], fin: true });
    expect(w.ended).toBe(true);
    expect(w.accept(2, 2, payload(2), false)).toBe('duplicate');
  });

  it('wraps sequence numbers past 65535', () => {
    const w = new ReceiveWindow(4);
    for (let i = 0; i < 70_000; i++) {
      w.accept(i & 0xffff, i & 0xffff, payload(i & 0xff), false);
      expect(drain(w).got).toEqual([i & 0xff]);
    }
  });
});
