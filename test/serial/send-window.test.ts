import { describe, expect, it } from 'vitest';
import { SendWindow } from '../../shared/serial/send-window';

const bytes = (n: number, fill = 1) => new Uint8Array(n).fill(fill);
const NONE = 0xffff;

/** Sends everything the window allows; returns the seqs in order. */
function sendAll(w: SendWindow, now = 0): number[] {
  const seqs: number[] = [];
  for (let f = w.takeNext(now); f; f = w.takeNext(now)) seqs.push(f.seq);
  return seqs;
}

describe('SendWindow', () => {
  it('cuts queued bytes into frames of at most maxPayload, up to the window', () => {
    const w = new SendWindow(100, 4);
    w.enqueue(bytes(250));
    w.enqueue(bytes(300));
    const sizes: number[] = [];
    for (let f = w.takeNext(0); f; f = w.takeNext(0)) sizes.push(f.payload.length);
    expect(sizes).toEqual([100, 100, 100, 100]);
    expect(w.inFlight).toBe(4);
    expect(w.queuedBytes).toBe(150);
  });

  it('frees delivered frames and slides on', () => {
    const w = new SendWindow(10, 2);
    w.enqueue(bytes(40));
    expect(sendAll(w)).toEqual([0, 1]);
    const outcome = w.onAck({ next: 1, sack: 0, echo: 0 }, 5);
    expect(outcome).toMatchObject({ progress: true, rttSample: 5, lost: 0 });
    expect(sendAll(w)).toEqual([2]);
  });

  it('resends at once what went out before the echoed transmission and is neither delivered nor held', () => {
    const w = new SendWindow(10, 8);
    w.enqueue(bytes(50));
    expect(sendAll(w)).toEqual([0, 1, 2, 3, 4]);
    // Frame 1 was lost: the peer delivered 0, holds 2 and 3 (SACK bits 1 and 2 past next=1),
    // and the last thing it got was tx 3 (frame 3). Frame 4 (tx 4) may still be on its way.
    const outcome = w.onAck({ next: 1, sack: 0b110, echo: 3 }, 10);
    expect(outcome.lost).toBe(1);
    const resend = w.takeNext(11)!;
    expect(resend).toMatchObject({ seq: 1, resent: true, tx: 5 });
    expect(w.takeNext(11)).toBeUndefined();
    // A later ack echoing tx 4 says nothing new about frame 1 (resent as tx 5).
    expect(w.onAck({ next: 1, sack: 0b1110, echo: 4 }, 12).lost).toBe(0);
    expect(w.onAck({ next: 5, sack: 0, echo: 5 }, 13)).toMatchObject({ progress: true, lost: 0 });
    expect(w.inFlight).toBe(0);
  });

  it('ignores stale acknowledgements and echoes it has already seen', () => {
    const w = new SendWindow(10, 4);
    w.enqueue(bytes(30));
    sendAll(w);
    w.onAck({ next: 2, sack: 0, echo: 1 }, 1);
    expect(w.onAck({ next: 1, sack: 0, echo: 0 }, 2)).toEqual({ progress: false, lost: 0 });
    expect(w.onAck({ next: 50, sack: 0, echo: NONE }, 2)).toEqual({ progress: false, lost: 0 });
    expect(w.inFlight).toBe(1);
  });

  it('on timeout resends the oldest frame the peer does not hold', () => {
    const w = new SendWindow(10, 4);
    w.enqueue(bytes(30));
    sendAll(w);
    w.onAck({ next: 0, sack: 0b1, echo: NONE }, 1);
    expect(w.resendOldest()).toBe(true);
    expect(w.takeNext(2)).toMatchObject({ seq: 1, resent: true });
  });

  it('sends the FIN alone, after the data, and knows when only it is left', () => {
    const w = new SendWindow(10, 4);
    w.enqueue(bytes(15));
    w.finish();
    const frames = [w.takeNext(0)!, w.takeNext(0)!, w.takeNext(7)!];
    expect(frames.map((f) => [f.payload.length, f.fin])).toEqual([[10, false], [5, false], [0, true]]);
    w.onAck({ next: 2, sack: 0, echo: 1 }, 8);
    expect(w.onlyFinOutstanding).toBe(true);
    w.onAck({ next: 3, sack: 0, echo: 2 }, 9);
    expect(w.finDelivered).toBe(true);
    expect(w.idle).toBe(true);
  });

  it('wraps sequence numbers past 65535', () => {
    const w = new SendWindow(1, 4);
    for (let round = 0; round < 70_000; round++) {
      w.enqueue(bytes(1));
      const f = w.takeNext(round)!;
      expect(f.seq).toBe(round & 0xffff);
      w.onAck({ next: (round + 1) & 0xffff, sack: 0, echo: f.tx }, round);
    }
    expect(w.inFlight).toBe(0);
  });
});
