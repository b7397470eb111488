/**
 * Faults the simulated board can be told to have, through the environment of the run_joint
 * process: AXSIM_FAULT is a comma-separated list, e.g. `perturb,slow=20`.
 *
 *   perturb           float outputs get small errors (relative RMS 1%): a board-vs-simulator
 *                     comparison fails, cosine similarity stays above 0.999
 *   off-by-one        one element (the middle one) of the first integer output is off by one
 *   abort             the first AX_JOINT_RunSync fails its assert(): SIGABRT, buffered stdout lost
 *   hang              the first AX_JOINT_RunSync never returns (SIGTERM/SIGKILL end it)
 *   hang-ignore-term  like hang, and SIGTERM is ignored (only SIGKILL ends it)
 *   no-dump[=I]       output I (default 0) cannot be written: `dump output[I] ... failed`
 *   slow=MS           every inference round (warm-up and timed) takes MS milliseconds more
 */

export interface Faults {
  readonly perturb: boolean;
  readonly offByOne: boolean;
  readonly abort: boolean;
  /** 'plain': ends on SIGTERM; 'ignore-term': only SIGKILL ends it. */
  readonly hang: 'none' | 'plain' | 'ignore-term';
  /** Index of the output whose dump fails, or -1. */
  readonly noDump: number;
  readonly slowMs: number;
}

export const NO_FAULTS: Faults = { perturb: false, offByOne: false, abort: false, hang: 'none', noDump: -1, slowMs: 0 };

/** Parses AXSIM_FAULT; throws an Error naming the entry it does not understand. */
export function parseFaults(text: string | undefined): Faults {
  const faults = { ...NO_FAULTS } as { -readonly [K in keyof Faults]: Faults[K] };
  for (const raw of (text ?? '').split(',')) {
    const entry = raw.trim();
    if (entry === '') continue;
    const [name, value] = entry.includes('=') ? [entry.slice(0, entry.indexOf('=')), entry.slice(entry.indexOf('=') + 1)] : [entry, undefined];
    if (name === 'perturb' && value === undefined) faults.perturb = true;
    else if (name === 'off-by-one' && value === undefined) faults.offByOne = true;
    else if (name === 'abort' && value === undefined) faults.abort = true;
    else if (name === 'hang' && value === undefined) faults.hang = 'plain';
    else if (name === 'hang-ignore-term' && value === undefined) faults.hang = 'ignore-term';
    else if (name === 'no-dump') faults.noDump = value === undefined ? 0 : count(entry, value);
    else if (name === 'slow' && value !== undefined) faults.slowMs = count(entry, value);
    else throw new Error(`unknown fault '${entry}' (known: perturb, off-by-one, abort, hang, hang-ignore-term, no-dump[=I], slow=MS)`);
  }
  return faults;
}

function count(entry: string, value: string): number {
  if (!/^[0-9]+$/.test(value)) throw new Error(`fault '${entry}' needs a whole number after '='`);
  return Number(value);
}
