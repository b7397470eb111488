/**
 * A gt folder older than what it is meant to describe: the model rebuilt, or a gt input edited,
 * after `pulsar run --output_gt` wrote gt/joint. gt/joint may then be an earlier build's output,
 * and a board that differs from it says nothing about the board. Judged by modification times:
 * a copy that did not keep them can fool it, so what it says is "check", never a verdict.
 */
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import type { GtFolder } from '../../shared/parsers/gt-folder';

/** Times closer than this are one `pulsar run` (or one copy) writing several files. */
const SLACK_MS = 2000;

/** "the model m.joint was modified 3 min after gt/joint was written", or null when nothing is newer than gt/joint. */
export async function newerThanReference(modelPath: string, gt: GtFolder): Promise<string | null> {
  const referenceFolder = gt.layout === 'input-output' ? 'output' : 'joint';
  const reference = (gt.layout === 'input-output' ? gt.output : gt.joint).flatMap((f) => [f.bin, f.npy]);
  const written = Math.max(...(await Promise.all(reference.map(mtimeOf))));
  if (!Number.isFinite(written)) return null;
  const after = (file: string, modified: number) => `${file} was modified ${duration(modified - written)} after gt/${referenceFolder} was written`;
  const model = await mtimeOf(modelPath);
  if (model > written + SLACK_MS) return after(`the model ${path.basename(modelPath)}`, model);
  for (const input of gt.inputs) {
    const file = input.bin ?? input.npy;
    const modified = await mtimeOf(file);
    if (modified > written + SLACK_MS) return after(`gt/input/${path.basename(file!)}`, modified);
  }
  return null;
}

async function mtimeOf(file: string | undefined): Promise<number> {
  if (!file) return -Infinity;
  return fsp.stat(file).then((st) => st.mtimeMs, () => -Infinity);
}

function duration(ms: number): string {
  const s = ms / 1000;
  if (s < 120) return `${Math.round(s)} s`;
  if (s < 7200) return `${Math.round(s / 60)} min`;
  if (s < 2 * 86400) return `${Math.round(s / 3600)} h`;
  return `${Math.round(s / 86400)} days`;
}
