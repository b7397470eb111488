/**
 * A --stdio agent that owns the store keeps serving the hosts relayed to it after its own host
 * has left (store-owner.ts). Over ssh:// that host's close waits for the agent's end of the
 * channel, and sshd sends it (EOF) only once the agent's stdout and stderr are both closed: the
 * process still held them, so every such close waited out the host's close timeout (5 s). So
 * the owner lets go of them: both are pointed at /dev/null (closed, then /dev/null opened,
 * which takes the lowest free number: the same one), and nothing is written to them any more.
 * The log says so, and goes on in `logFile` (in the store): the other hosts' sessions are still
 * worth a log on a board being debugged. stdin is left as it is: the host has ended it already
 * (and Node may have closed it: the number may be another file's by now).
 */
import { appendFileSync, closeSync, openSync, statSync, truncateSync } from 'node:fs';

/** The log file is started again past this size (a board's flash is small). */
const LOG_FILE_MAX_BYTES = 1024 * 1024;

let released = false;

export function letGoOfStdio(log: (line: string) => void, logFile: string): void {
  if (released) return;
  released = true;
  log(`its own host has left; serving the hosts relayed to it to the end, its log now in ${logFile} (stdout and stderr are closed so that the SSH channel of that host ends)`);
  // Also in case another thread's open took the number between the close and the open below:
  // the streams must not write into that file.
  process.stdout.write = (() => true) as typeof process.stdout.write;
  let size = 0;
  try {
    size = statSync(logFile).size;
  } catch {
    // none yet
  }
  process.stderr.write = ((chunk: string | Uint8Array) => {
    try {
      // Started afresh whenever it would pass the limit: the sessions may go on for days.
      if (size > LOG_FILE_MAX_BYTES) {
        truncateSync(logFile, 0);
        size = 0;
      }
      appendFileSync(logFile, chunk);
      size += typeof chunk === 'string' ? Buffer.byteLength(chunk) : chunk.length;
    } catch {
      // A full or read-only disk, or a store removed: the log is lost, the sessions go on.
    }
    return true;
  }) as typeof process.stderr.write;
  for (const fd of [1, 2]) {
    try {
      closeSync(fd);
      const devNull = openSync('/dev/null', 'w');
      if (devNull !== fd) closeSync(devNull); // the number went to another file meanwhile: it is that file's
    } catch {
      // Closed already, or no /dev/null: the channel ends all the same once both are closed.
    }
  }
}
