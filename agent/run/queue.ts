/**
 * One run at a time, first come first served. The NPU is one device and run_joint's timings
 * mean nothing when two runs share it, so runs wait here. A waiting run is told its position
 * (how many runs are ahead of it, the running one included) when it joins and whenever that
 * number changes, and 0 when it starts after having waited. A run that starts at once is told
 * nothing. Cancelling a waiting run takes it out of the line.
 */
import { RunFailedError } from '../../shared/errors';

export interface QueueHooks {
  onPosition?: (position: number) => void;
  signal?: AbortSignal;
}

interface Entry {
  start(): void;
  hooks: QueueHooks;
  /** Last position told; undefined until told once. */
  told?: number;
}

export class RunQueue {
  private running = false;
  private readonly waiting: Entry[] = [];

  /** Runs waiting to start (not counting the one running). */
  get waitingCount(): number {
    return this.waiting.length;
  }

  get busy(): boolean {
    return this.running;
  }

  /**
   * Runs `task` when every run queued before it has finished. Rejects with RunFailedError
   * RUN_CANCELLED if `signal` aborts while it is still waiting (once started, cancelling is the
   * task's business).
   */
  run<T>(task: () => Promise<T>, hooks: QueueHooks = {}): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      if (hooks.signal?.aborted) {
        reject(cancelledWhileWaiting());
        return;
      }
      const onAbort = () => {
        const index = this.waiting.indexOf(entry);
        if (index < 0) return;
        this.waiting.splice(index, 1);
        reject(cancelledWhileWaiting());
        this.announce();
      };
      const entry: Entry = {
        hooks,
        start: () => {
          hooks.signal?.removeEventListener('abort', onAbort);
          if (entry.told !== undefined) tell(entry, 0);
          Promise.resolve()
            .then(task)
            .then(resolve, reject)
            .finally(() => {
              this.running = false;
              this.pump();
            });
        },
      };
      hooks.signal?.addEventListener('abort', onAbort, { once: true });
      this.waiting.push(entry);
      this.pump();
    });
  }

  private pump(): void {
    if (!this.running) {
      const next = this.waiting.shift();
      if (next) {
        this.running = true;
        next.start();
      }
    }
    this.announce();
  }

  private announce(): void {
    this.waiting.forEach((entry, index) => {
      const position = index + (this.running ? 1 : 0);
      if (entry.told !== position) tell(entry, position);
    });
  }
}

function tell(entry: Entry, position: number): void {
  entry.told = position;
  try {
    entry.hooks.onPosition?.(position);
  } catch {
    // A listener's failure must not stall the line for everyone else.
  }
}

function cancelledWhileWaiting(): RunFailedError {
  return new RunFailedError('RUN_CANCELLED', 'the run was cancelled while waiting for the board', { hint: 'send it again when you want it' });
}
