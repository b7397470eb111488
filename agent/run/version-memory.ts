/**
 * run_joint's version as the board last printed it, kept across agent restarts. run_joint has
 * no --version option: it prints `run joint version: X` when it runs a model, so an agent
 * learns the version from its first run, and `axctl boards` would show a blank after every
 * restart until then. The agent runs nothing but real runs (it never starts run_joint just to
 * read a version), so it remembers what it learnt in <store>/run-joint-version.json, together
 * with run_joint's path, size and modification time: a replaced run_joint is not reported with
 * the version of the old one.
 */
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { writeFileAtomic } from '../store/disk';

const FILE_NAME = 'run-joint-version.json';

interface Record {
  runJoint: string;
  size: number;
  mtimeMs: number;
  version: string;
}

export class RunJointVersionMemory {
  private constructor(
    private readonly file: string,
    private readonly runJoint: string,
    private version: string,
  ) {}

  /** What the store remembers for this run_joint, or '' (unknown, or run_joint changed since). */
  static async load(storeDir: string, runJoint: string): Promise<RunJointVersionMemory> {
    const file = path.join(storeDir, FILE_NAME);
    let version = '';
    try {
      const saved = JSON.parse(await fsp.readFile(file, 'utf8')) as Partial<Record>;
      const stat = await fsp.stat(runJoint);
      if (saved.runJoint === runJoint && saved.size === stat.size && saved.mtimeMs === stat.mtimeMs && typeof saved.version === 'string') version = saved.version;
    } catch {
      // Nothing saved yet, unreadable, or run_joint gone: unknown until the next run.
    }
    return new RunJointVersionMemory(file, runJoint, version);
  }

  get runJointVersion(): string {
    return this.version;
  }

  /** A run printed `version`; kept for the next start when it is new. Never fails a run. */
  async learn(version: string): Promise<void> {
    if (!version || version === this.version) return;
    this.version = version;
    try {
      const stat = await fsp.stat(this.runJoint);
      const record: Record = { runJoint: this.runJoint, size: stat.size, mtimeMs: stat.mtimeMs, version };
      await writeFileAtomic(this.file, `${JSON.stringify(record)}\n`);
    } catch {
      // A read-only or full store costs only the memory across restarts.
    }
  }
}
