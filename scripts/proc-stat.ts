/**
 * CPU time from /proc (Linux), for the benchmarks' CPU-per-MB figures, which a busy machine
 * disturbs far less than MB/s.
 */
import { readFileSync } from 'node:fs';

/**
 * CPU seconds used by process `pid` ('self' for this one), or one of its threads (`task`):
 * utime + stime, plus cutime + cstime (its finished, waited-for children) with `children`.
 * Null where /proc is missing.
 */
export function procCpuSeconds(pid: number | 'self', opts: { task?: number; children?: boolean } = {}): number | null {
  try {
    const stat = readFileSync(opts.task === undefined ? `/proc/${pid}/stat` : `/proc/${pid}/task/${opts.task}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const own = Number(f[11]) + Number(f[12]);
    return (opts.children ? own + Number(f[13]) + Number(f[14]) : own) / 100; // in USER_HZ, 100 on Linux
  } catch {
    return null;
  }
}
