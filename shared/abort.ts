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
