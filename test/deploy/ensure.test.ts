/** Uploading only what the board lacks: one has() round trip, duplicates once, progress totals. */
import { describe, expect, it } from 'vitest';
import type { BoardSession, UploadProgress } from '../../host/board/session';
import { ensureOnBoard } from '../../host/deploy/ensure';
import type { Progress } from '../../host/deploy/progress';

/** A board that holds blobs in memory: what ensureOnBoard sees of a real one (has, upload). */
class MemoryBoard implements BoardSession {
  readonly identity = { url: 'memory://board', mode: 'agent' as const };
  readonly held = new Map<string, number>();
  hasCalls = 0;
  uploads: string[] = [];
  async has(blobs: { hash: string; size: number }[]) {
    this.hasCalls++;
    return blobs.map((b) => this.held.get(b.hash) === b.size);
  }
  async upload(_file: string, hash: string, size: number, onProgress?: (p: UploadProgress) => void) {
    this.uploads.push(hash);
    onProgress?.({ doneBytes: size, totalBytes: size, sentBytes: size });
    this.held.set(hash, size);
    return { sentBytes: size };
  }
  run(): never {
    throw new Error('not used');
  }
  async download() {}
  async close() {}
}

function recorder(): Progress & { events: string[] } {
  const events: string[] = [];
  return {
    events,
    note: (l) => events.push(`note ${l}`),
    startBytes: (label, total) => events.push(`start ${label} ${total}`),
    updateBytes: (done) => events.push(`update ${done}`),
    endBytes: () => events.push('end'),
    stop: () => undefined,
  };
}

const h = (c: string) => c.repeat(64);

describe('ensureOnBoard', () => {
  it('asks once, sends only what is missing, the same blob once', async () => {
    const board = new MemoryBoard();
    board.held.set(h('a'), 10);
    const progress = recorder();
    const out = await ensureOnBoard(
      board,
      [
        { label: 'model', path: '/m.joint', hash: h('a'), size: 10 },
        { label: 'x', path: '/gt/input/x.bin', hash: h('b'), size: 5 },
        { label: 'y', path: '/gt/input/y.bin', hash: h('b'), size: 5 },
        { label: 'z', path: '/gt/input/z.bin', hash: h('c'), size: 7 },
      ],
      progress,
    );
    expect(board.hasCalls).toBe(1);
    expect(board.uploads).toEqual([h('b'), h('c')]);
    expect(out.map((o) => [o.label, o.present, o.sentBytes])).toEqual([['model', true, 0], ['x', false, 5], ['y', false, 5], ['z', false, 7]]);
    expect(progress.events).toEqual(['start 2 files 12', 'update 5', 'update 12', 'end']);
  });

  it('sends nothing and shows no bar when the board has everything', async () => {
    const board = new MemoryBoard();
    board.held.set(h('a'), 10);
    const progress = recorder();
    const out = await ensureOnBoard(board, [{ label: 'model', path: '/m', hash: h('a'), size: 10 }], progress);
    expect(out[0]).toMatchObject({ present: true, sentBytes: 0, resumedFrom: 10 });
    expect(board.uploads).toEqual([]);
    expect(progress.events).toEqual([]);
  });
});
