/** Shared by the lint tests: a project folder with configs and a calibration tar. */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tar from 'tar';

export const CONFIGS = path.join(__dirname, '..', 'fixtures', 'toolchain', 'configs');

/** A tar archive of `count` small files named img-0.jpg..., written at `file`. */
export function makeTar(file: string, count: number, options: { gzip?: boolean } = {}): void {
  const src = fs.mkdtempSync(path.join(os.tmpdir(), 'axctl-tar-src-'));
  try {
    const names: string[] = [];
    for (let i = 0; i < count; i++) {
      fs.writeFileSync(path.join(src, `img-${i}.jpg`), `image ${i}`);
      names.push(`img-${i}.jpg`);
    }
    fs.mkdirSync(path.dirname(file), { recursive: true });
    tar.c({ sync: true, file, cwd: src, gzip: options.gzip ?? false, portable: true }, names);
  } finally {
    fs.rmSync(src, { recursive: true, force: true });
  }
}

/** tmp/config/<fixtures...> and tmp/dataset/calib.tar with `images` files. */
export function makeProject(images = 300): string {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'axctl-lint-'));
  fs.mkdirSync(path.join(root, 'config'));
  for (const name of fs.readdirSync(CONFIGS)) fs.copyFileSync(path.join(CONFIGS, name), path.join(root, 'config', name));
  makeTar(path.join(root, 'dataset', 'calib.tar'), images);
  return root;
}

/** 1-based line of the only line containing `marker`. */
export function lineOf(text: string, marker: string): number {
  const lines = text.split('\n');
  const hits = lines.flatMap((l, i) => (l.includes(marker) ? [i + 1] : []));
  if (hits.length !== 1) throw new Error(`marker ${marker} found ${hits.length} times`);
  return hits[0];
}
