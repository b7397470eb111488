/**
 * Ctrl-C while deploying or verifying: the first SIGINT (or SIGTERM, or SIGHUP: the terminal
 * or the SSH login it ran in closed) calls the command's handler, which cancels the run on the
 * board and closes the connection in an orderly way; a second one exits at once. The exit code
 * of an interrupted command is 130 (128 + SIGINT).
 */
export const INTERRUPTED_EXIT = 130;

const SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

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
