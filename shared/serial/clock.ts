/**
 * Time as the link sees it. Injected so tests can run a link over a simulated line in
 * virtual time (deterministic, no sleeping); production uses the monotonic system clock.
 */
export interface Clock {
  /** Milliseconds from an arbitrary origin; never goes backwards. */
  now(): number;
  /** Calls `fn` once after `ms`; the handle goes to clearTimer. */
  setTimer(fn: () => void, ms: number): unknown;
  clearTimer(handle: unknown): void;
}

export const systemClock: Clock = {
  now: () => performance.now(),
  setTimer: (fn, ms) => {
    const timer = setTimeout(fn, Math.max(0, ms));
    // A link's own timers never keep a process alive: the open port does while it matters.
    timer.unref();
    return timer;
  },
  clearTimer: (handle) => clearTimeout(handle as NodeJS.Timeout),
};
