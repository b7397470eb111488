/**
 * Asking V8 to collect its young generation every few MiB that pass through a process.
 *
 * Every byte moved lands in fresh buffers (the socket's 64 KiB reads, assembled messages,
 * frames, ssh2's packets). V8 frees them only when it collects the young generation, which on
 * its own it does after ~32 MiB of such buffers (twice its default semi-space on 64-bit; 16 MiB
 * on a 32-bit board), and by then some have been promoted and wait for a full collection, and
 * glibc keeps the pages they took. A scavenge costs ~0.3 ms (it copies only the few live young
 * objects), so one every COLLECT_EVERY_BYTES keeps memory flat and can even save CPU:
 * - the agent receiving 500 MB (with the upload slabs of agent/session/transfer-memory.ts):
 *   101–108 → 80–89 MiB; a relaying `--stdio` agent (agent/store-owner.ts): 92 → 63 MiB;
 * - axctl uploading to the agent over SSH (ssh2 makes a fresh buffer per 32 KiB packet): client
 *   CPU 3.8–4.8 → 2.8–3.7 ms per MB in runs of that upload alone, as mark-compacts give way to
 *   scavenges (in the SSH bench's mixed rounds the difference is within the noise).
 * Only where buffers die at once: in flight longer than the pacing interval they are promoted
 * instead — a `--listen` agent relaying whole messages to the owner (agent/join-transports.ts)
 * went 93–98 → 136–139 MiB with it, so it has none; the WebSocket upload's host side, which
 * makes little garbage (its frames are recycled), gained nothing.
 */
import * as v8 from 'node:v8';
import * as vm from 'node:vm';

/**
 * Bytes moved between two young-generation collections. Measured (500 MB upload): 2 MiB
 * 80–82 MiB peak but +0.3 ms of agent CPU per MB, 4 MiB 81–89, 8 MiB 90–94; a collection
 * every 5–15 ms of wall time instead promoted chunks still in flight (96–139 MiB).
 */
export const COLLECT_EVERY_BYTES = 4 * 1024 * 1024;

/** A collection of V8's young generation (a scavenge). */
export type Collect = () => void;

/**
 * V8's young-generation collection, or null where it cannot be had. Node offers it only behind
 * --expose-gc; setting that flag at run time makes `gc` appear in contexts created afterwards,
 * so the agent needs no special command line. (The `expose-gc` package does the same. Node
 * warns that flags changed at run time may behave unpredictably; this one only adds a function
 * to new contexts; tests check it on the Node that runs them and, through an upload, on the
 * armhf Node 18 under qemu. Without it the agent says so when it first needs it and works, with
 * more memory.)
 */
export function youngCollector(): Collect | null {
  const gc = exposedGc();
  return gc && (() => gc({ type: 'minor' }));
}

type ExposedGc = (options?: { type: 'minor' | 'major' }) => void;
let exposed: ExposedGc | null | undefined;

function exposedGc(): ExposedGc | null {
  if (exposed !== undefined) return exposed;
  try {
    v8.setFlagsFromString('--expose-gc');
    const gc: unknown = vm.runInNewContext('gc');
    exposed = typeof gc === 'function' ? (gc as ExposedGc) : null;
  } catch {
    exposed = null;
  }
  return exposed;
}

/** Bytes moved before settle() is worth a full collection. */
export const SETTLE_AFTER_BYTES = 64 * 1024 * 1024;

/**
 * Calls `collect` once every `everyBytes` reported through moved(); settle() (the transfers
 * are over) makes one full collection once SETTLE_AFTER_BYTES have moved since the last.
 */
export class CollectionPacer {
  private since = 0;
  private sinceSettled = 0;

  /** `full`: a full collection, for settle() (by default V8's, when it can be had). */
  constructor(private readonly collect: Collect | null, private readonly everyBytes = COLLECT_EVERY_BYTES, private readonly full: Collect = () => exposedGc()?.()) {}

  /** False for a pacer made without a collection (moved() then does nothing). */
  get enabled(): boolean {
    return this.collect !== null;
  }

  /**
   * The transfers are over for now: after many bytes, a full collection gives back what the
   * young collections promoted along the way (an agent idle after 256 MB uploads held ~85 MiB
   * instead of ~70), so the next large upload starts from there.
   */
  settle(): void {
    if (this.sinceSettled < SETTLE_AFTER_BYTES || !this.collect) return;
    this.sinceSettled = 0;
    this.full();
  }

  /** `bytes` went through the agent. */
  moved(bytes: number): void {
    this.since += bytes;
    this.sinceSettled += bytes;
    if (this.since < this.everyBytes || !this.collect) return;
    this.since = 0;
    this.collect();
  }
}

let processPacer: CollectionPacer | undefined;

/**
 * The one pacer of this process (its count of bytes moved is the process's, whichever path
 * moved them). Its collection is looked for only when first due: youngCollector() makes a V8
 * context (~2 ms here, ~35 ms under qemu-arm), which an agent started for a small verify over
 * ssh:// never needs. `onMissing` (the first caller's) hears when this Node has none.
 */
export function sharedPacer(onMissing?: () => void): CollectionPacer {
  return (processPacer ??= new CollectionPacer(lazyYoungCollector(onMissing)));
}

function lazyYoungCollector(onMissing?: () => void): Collect {
  let collect: Collect | null | undefined;
  return () => {
    if (collect === undefined) {
      collect = youngCollector();
      if (!collect) onMissing?.();
    }
    collect?.();
  };
}
