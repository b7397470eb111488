/**
 * Benchmark of the comparison metrics (shared/metrics) against numpy.
 *
 * 1. Two 64 MiB float32 .npy files (the second = the first + small noise), warm in the page
 *    cache. axctl: openTensor + compareSources with every metric. numpy: np.load of both plus
 *    cosine, allclose and max |a − b| — loads inside the timed region on both sides. Medians
 *    of RUNS runs and the ratio axctl/numpy (target <= 1.0).
 * 2. Two 1 GiB float32 tensors, written streaming and deleted afterwards, compared in a child
 *    process whose peak RSS (process.resourceUsage().maxRSS) is held against 256 MiB.
 *    Skipped, saying so, when the temp folder's filesystem has too little room.
 *
 * numpy runs in /usr/bin/python3 (Debian's python3-numpy) if it has numpy, else `python3` on
 * PATH. OPENBLAS_CORETYPE/OPENBLAS_L2_SIZE are removed from that child's environment only
 * (they slow a current numpy; see the machine notes).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { compareSources, stageTolerance, type Comparison } from '../../shared/metrics';
import { openTensor } from '../../shared/tensor/open';
import { writeNpy } from '../../shared/tensor/npy';

const MiB = 1024 * 1024;
const RUNS = 5;
const SMALL_ELEMENTS = (64 * MiB) / 4;
const LARGE_ELEMENTS = (1024 * MiB) / 4;
const RSS_TARGET_MIB = 256;
const WRITE_CHUNK = MiB;

/** Deterministic values in [-1, 1) (mulberry32), with optional noise of ±noise/2 added. */
async function* floats(count: number, seed: number, noise: number): AsyncGenerator<Float32Array> {
  const value = mulberry32(seed);
  const noiseValue = mulberry32(seed ^ 0x9e3779b9);
  for (let done = 0; done < count; done += WRITE_CHUNK) {
    const chunk = new Float32Array(Math.min(WRITE_CHUNK, count - done));
    for (let i = 0; i < chunk.length; i++) {
      let v = value() * 2 - 1;
      if (noise > 0) v += (noiseValue() - 0.5) * noise;
      chunk[i] = v;
    }
    yield chunk;
  }
}

async function writePair(dir: string, elements: number): Promise<[string, string]> {
  const a = path.join(dir, `a-${elements}.npy`);
  const b = path.join(dir, `b-${elements}.npy`);
  await writeNpy(a, 'float32', [elements], floats(elements, 42, 0));
  await writeNpy(b, 'float32', [elements], floats(elements, 42, 1e-5));
  return [a, b];
}

async function compareFiles(a: string, b: string): Promise<Comparison> {
  return compareSources(await openTensor(a), await openTensor(b), stageTolerance('board-vs-simulator', 'float32'));
}

const NUMPY_SCRIPT = `
import json, sys, time
import numpy as np
a_path, b_path, runs = sys.argv[1], sys.argv[2], int(sys.argv[3])
times = []
for _ in range(runs):
    t0 = time.perf_counter()
    a = np.load(a_path)
    b = np.load(b_path)
    cos = float(np.dot(a, b)) / (float(np.linalg.norm(a)) * float(np.linalg.norm(b)))
    close = bool(np.allclose(b, a, rtol=1e-4, atol=1e-5))
    max_abs = float(np.max(np.abs(a - b)))
    times.append(time.perf_counter() - t0)
    del a, b
try:
    from threadpoolctl import threadpool_info
    blas = '; '.join('%s %s (%s)' % (i.get('internal_api'), i.get('version'), i.get('architecture')) for i in threadpool_info())
except Exception:
    blas = 'threadpoolctl not installed'
print(json.dumps({'version': np.__version__, 'times': times, 'cos': cos, 'allclose': close, 'max_abs': max_abs, 'blas': blas}))
`;
import { mulberry32 } from '../prng';
import { median } from './lib/stats';

function pickPython(): string | undefined {
  for (const candidate of ['/usr/bin/python3', 'python3']) {
    if (candidate.startsWith('/') && !existsSync(candidate)) continue;
    const probe = spawnSync(candidate, ['-c', 'import numpy'], { stdio: 'ignore' });
    if (probe.status === 0) return candidate;
  }
  return undefined;
}

function numpyEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  const unset = ['OPENBLAS_CORETYPE', 'OPENBLAS_L2_SIZE'].filter((k) => env[k] !== undefined);
  for (const k of unset) delete env[k];
  if (unset.length) console.log(`numpy child: unset ${unset.join(' and ')} (set on this machine)`);
  return env;
}

function freeBytes(dir: string): number | undefined {
  const df = spawnSync('df', ['-Pk', dir], { encoding: 'utf8' });
  const fields = df.status === 0 ? df.stdout.trim().split('\n').at(-1)?.split(/\s+/) : undefined;
  const availableKiB = fields ? Number(fields[3]) : NaN;
  return Number.isFinite(availableKiB) ? availableKiB * 1024 : undefined;
}

async function smallPart(dir: string): Promise<void> {
  console.log(`writing two ${(SMALL_ELEMENTS * 4) / MiB} MiB float32 .npy files (second = first + noise of ±5e-6)`);
  const [a, b] = await writePair(dir, SMALL_ELEMENTS);
  readFileSync(a);
  readFileSync(b);
  await compareFiles(a, b); // warm-up: page cache and JIT
  const times: number[] = [];
  let result: Comparison | undefined;
  for (let i = 0; i < RUNS; i++) {
    const t0 = process.hrtime.bigint();
    result = await compareFiles(a, b);
    times.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  const m = result?.metrics;
  const axctlMs = median(times);
  console.log(`axctl compareSources (all metrics): median ${axctlMs.toFixed(1)} ms of ${RUNS} [${times.map((t) => t.toFixed(0)).join(', ')}]`);
  console.log(`  cosine ${m?.cosine}, maxAbsDiff ${m?.maxAbsDiff}, mismatched ${m?.mismatched}, pass ${result?.pass}`);

  const python = pickPython();
  if (!python) {
    console.log('numpy: no python3 with numpy found (/usr/bin/python3 or python3 on PATH): no baseline, no ratio');
    return;
  }
  const run = spawnSync(python, ['-c', NUMPY_SCRIPT, a, b, String(RUNS)], { encoding: 'utf8', env: numpyEnv(), maxBuffer: 16 * MiB });
  if (run.status !== 0) {
    console.log(`numpy: ${python} failed: ${run.stderr.trim().split('\n').at(-1)}`);
    return;
  }
  const np = JSON.parse(run.stdout) as { version: string; times: number[]; cos: number; allclose: boolean; max_abs: number; blas: string };
  const numpyMs = median(np.times) * 1000;
  console.log(`numpy ${np.version} via ${python} (np.load ×2 + cosine + allclose + max-abs): median ${numpyMs.toFixed(1)} ms [${np.times.map((t) => (t * 1000).toFixed(0)).join(', ')}]`);
  console.log(`  cosine ${np.cos}, max_abs ${np.max_abs}, allclose ${np.allclose}; BLAS: ${np.blas}`);
  const ratio = axctlMs / numpyMs;
  console.log(`ratio axctl/numpy: ${ratio.toFixed(2)} (target <= 1.0: ${ratio <= 1 ? 'met' : 'NOT met'})`);
}

async function largePart(dir: string): Promise<void> {
  const need = 2 * LARGE_ELEMENTS * 4 + 256 * MiB;
  const free = freeBytes(dir);
  if (free === undefined || free < need) {
    console.log(`1 GiB part skipped: ${dir} has ${free === undefined ? 'an unknown amount of' : `${(free / MiB).toFixed(0)} MiB`} free, ${(need / MiB).toFixed(0)} MiB needed`);
    return;
  }
  console.log('writing two 1 GiB float32 .npy files (streaming)');
  const [a, b] = await writePair(dir, LARGE_ELEMENTS);
  try {
    const child = spawnSync(process.execPath, [__filename, '--child-compare', a, b], { encoding: 'utf8', maxBuffer: MiB });
    if (child.status !== 0) throw new Error(`comparison child failed: ${child.stderr.trim()}`);
    const report = JSON.parse(child.stdout) as { ms: number; maxRssKiB: number; pass: boolean; cosine: number };
    const rssMiB = report.maxRssKiB / 1024;
    console.log(`1 GiB vs 1 GiB compare in a child: ${(report.ms / 1000).toFixed(2)} s (${((2 * 1024) / (report.ms / 1000)).toFixed(0)} MiB/s read), cosine ${report.cosine}, pass ${report.pass}`);
    console.log(`peak RSS ${rssMiB.toFixed(0)} MiB (target <= ${RSS_TARGET_MIB} MiB: ${rssMiB <= RSS_TARGET_MIB ? 'met' : 'NOT met'})`);
  } finally {
    rmSync(a, { force: true });
    rmSync(b, { force: true });
  }
}

/** Child mode: one comparison, then its time and peak RSS as JSON on stdout. */
async function child(a: string, b: string): Promise<void> {
  const t0 = process.hrtime.bigint();
  const result = await compareFiles(a, b);
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  process.stdout.write(JSON.stringify({ ms, maxRssKiB: process.resourceUsage().maxRSS, pass: result.pass, cosine: result.metrics?.cosine }));
}

async function main(): Promise<void> {
  if (process.argv[2] === '--child-compare') return child(process.argv[3], process.argv[4]);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'axctl-bench-metrics-'));
  try {
    await smallPart(dir);
    await largePart(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(`bench metrics: ${err instanceof Error ? err.message : String(err)}`);
  process.exitCode = 1;
});
