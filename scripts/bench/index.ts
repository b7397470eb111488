/**
 * `npm run bench`: runs every benchmark in this folder (their helpers are in lib/), one after
 * another (never in parallel: each measures itself against a baseline taken in the same run, on
 * a 2-core machine where a neighbour would skew both). `npm run bench -- metrics serial` runs a subset.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

function main(): number {
  const wanted = process.argv.slice(2);
  const benches = fs
    .readdirSync(__dirname)
    .filter((f) => f.endsWith('.js') && f !== 'index.js')
    .map((f) => f.slice(0, -3))
    .filter((name) => wanted.length === 0 || wanted.includes(name))
    .sort();
  if (benches.length === 0) {
    process.stderr.write(`bench: nothing matches ${wanted.join(' ')}\n`);
    return 2;
  }
  const failed: string[] = [];
  for (const name of benches) {
    process.stdout.write(`\n=== bench: ${name} ===\n`);
    const res = spawnSync(process.execPath, [path.join(__dirname, `${name}.js`)], { stdio: 'inherit' });
    if (res.status !== 0) failed.push(`${name} (exit ${res.status ?? res.signal})`);
  }
  process.stdout.write(`\n=== ${benches.length - failed.length}/${benches.length} benchmarks ran${failed.length ? `; failed: ${failed.join(', ')}` : ''} ===\n`);
  return failed.length ? 1 : 0;
}

process.exitCode = main();
