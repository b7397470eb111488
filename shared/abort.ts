/** AbortSignal plumbing shared by the places that wait on a peer. */

/**
 * Calls `onAbort` if `signal` aborts before the returned function is called (once settled);
 * an already aborted signal calls it on the next turn, after the caller has set up.
 */
export function untilSettled(signal: AbortSignal | undefined, onAbort: () => void): () => void {
  if (!signal) return () => undefined;
  let live = true;
  const fire = () => {
    if (!live) return;
    live = false;
    onAbort();
  };
  if (signal.aborted) {
    queueMicrotask(fire);
    return () => (live = false);
  }
  signal.addEventListener('abort', fire, { once: true });
  return () => {
    live = false;
    signal.removeEventListener('abort', fire);
  };
}

/**
 * `promise`, or a rejection with the signal's reason as soon as `signal` aborts. The work
 * itself goes on: the caller closes what it opened (an SSH connection takes its commands with it).
 */
export function orAbort<T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return promise;
  return new Promise<T>((resolve, reject) => {
    const settled = untilSettled(signal, () => reject(signal.reason));
    promise.then(
      (value) => {
        settled();
        resolve(value);
      },
      (err: unknown) => {
        settled();
        reject(err);
      },
    );
  });
}

/** Waits `ms`, or less when `signal` aborts (also one aborted already). Never rejects. */
export function sleepUnlessAborted(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise<void>((resolve) => {
    const done = (): void => {
      clearTimeout(timer);
      settle();
      resolve();
    };
    const timer = setTimeout(done, ms);
    const settle = untilSettled(signal, done);
  });
}

/**
 * Waits for `promise` to settle, but at most `ms` (a grace period on the way out: whatever it
 * was doing is given up after that). Never rejects; the timer does not keep the process alive.
 */
export async function settledWithin(promise: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const grace = new Promise<void>((resolve) => (timer = setTimeout(resolve, ms).unref()));
  await Promise.race([promise.then(() => undefined, () => undefined), grace]);
  clearTimeout(timer);
}
