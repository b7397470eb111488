/**
 * Ctrl-C while deploying or verifying: the first SIGINT (or SIGTERM) calls the command's
 * handler, which cancels the run on the board and closes the connection in an orderly way;
 * a second one exits at once. The exit code of an interrupted command is 130 (128 + SIGINT).
 */
export const INTERRUPTED_EXIT = 130;

export function onInterrupt(handler: (signal: NodeJS.Signals) => void): () => void {
  let count = 0;
  const listener = (signal: NodeJS.Signals) => {
    count++;
    if (count > 1) process.exit(INTERRUPTED_EXIT);
    process.stderr.write(`\naxctl: interrupted; stopping (press Ctrl-C again to quit at once)\n`);
    handler(signal);
  };
  process.on('SIGINT', listener);
  process.on('SIGTERM', listener);
  return () => {
    process.off('SIGINT', listener);
    process.off('SIGTERM', listener);
  };
}
