/**
 * Ctrl-C while deploying or verifying: the first SIGINT (or SIGTERM, or SIGHUP: the terminal
 * or the SSH login it ran in closed) calls the command's handler, which cancels the run on the
 * board and closes the connection in an orderly way; a second one exits at once. The exit code
 * of an interrupted command is 130 (128 + SIGINT).
 */
export const INTERRUPTED_EXIT = 130;

const SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

/**
 * Until a command installs its own handler (onInterrupt), and for commands that have nothing to
 * stop: a signal ends axctl at once with 130, and with --json its INTERRUPTED answer, instead of
 * the signal's default death that prints nothing (a farm's job cancelled while axctl loads).
 */
export function interruptBeforeCommand(printJson: () => void): void {
  const listener = (signal: NodeJS.Signals) => {
    if (process.listenerCount(signal) > 1) return; // a command's handler is in charge
    printJson();
    process.exit(INTERRUPTED_EXIT);
  };
  for (const signal of SIGNALS) process.on(signal, listener);
}

export function onInterrupt(handler: (signal: NodeJS.Signals) => void): () => void {
  let count = 0;
  const listener = (signal: NodeJS.Signals) => {
    count++;
    if (count > 1) process.exit(INTERRUPTED_EXIT);
    // A closed terminal fails every write (EIO): that must not crash the orderly stop.
    if (signal === 'SIGHUP') for (const stream of [process.stdout, process.stderr]) stream.on('error', () => undefined);
    process.stderr.write(`\naxctl: interrupted; stopping (press Ctrl-C again to quit at once)\n`);
    handler(signal);
  };
  for (const signal of SIGNALS) process.on(signal, listener);
  return () => {
    for (const signal of SIGNALS) process.off(signal, listener);
  };
}

/**
 * Runs a command's work so that Ctrl-C (or SIGTERM) aborts `signal` instead of killing axctl:
 * the work stops what it started (pulsar's process group, which the terminal's Ctrl-C no
 * longer reaches; the run on the board) and axctl says so, `axctl: WHAT interrupted` and
 * `; NEXT` when given, and returns INTERRUPTED_EXIT (130). A second Ctrl-C quits at once.
 */
export async function runInterruptible(what: string, work: (signal: AbortSignal) => Promise<number>, next?: string): Promise<number> {
  const abort = new AbortController();
  const dispose = onInterrupt(() => abort.abort());
  try {
    return await work(abort.signal);
  } catch (err) {
    if (!abort.signal.aborted) throw err;
    process.stderr.write(`axctl: ${what} interrupted${next ? `; ${next}` : ''}\n`);
    return INTERRUPTED_EXIT;
  } finally {
    dispose();
  }
}
