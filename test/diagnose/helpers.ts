/**
 * Shared by the diagnose end-to-end tests: a pulsar project (the toolchain tests' quick-start
 * layout) built with the stand-in pulsar under several faults, and `axctl diagnose` run as a
 * child process of the compiled CLI. Needs `npm run build` first.
 */
import { spawn } from 'node:child_process';
import * as path from 'node:path';
import { PulsarToolchain, pulsarBuild } from '../../host/toolchain';
import type { DiagnoseReport } from '../../host/report/model';
import { CLI, PULSAR } from '../toolchain/helpers';

export { makePulsarProject, removeProject, requireBuild, PULSAR, CLI } from '../toolchain/helpers';

export const FIXTURES = path.join(__dirname, '..', 'fixtures', 'diagnose');

/** Builds model.onnx with config/config.prototxt into <project>/<out>/ under AXPULSAR_FAULT=fault. */
export async function buildInto(project: string, out: string, fault = '', record = true): Promise<void> {
  const tool = new PulsarToolchain({ pulsar: PULSAR, cwd: project, env: {}, childEnv: { AXPULSAR_FAULT: fault, AXPULSAR_VERSION: '' } });
  await pulsarBuild(tool, {
    onnx: path.join(project, 'model.onnx'),
    config: path.join(project, 'config', 'config.prototxt'),
    output: path.join(project, out, 'model.joint'),
    outputConfig: path.join(project, out, 'output_config.prototxt'),
    record,
  });
}

export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * `axctl diagnose ARGS --quiet` in `cwd` with the stand-in pulsar (unless ARGS name another
 * --pulsar), ended after 120 s at the latest.
 */
export function diagnoseCli(cwd: string, args: string[], env: NodeJS.ProcessEnv = {}): Promise<CliRun> {
  const pulsar = args.includes('--pulsar') ? [] : ['--pulsar', PULSAR];
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, 'diagnose', ...pulsar, '--quiet', ...args], {
      cwd,
      env: { ...process.env, NO_COLOR: '1', AXPULSAR_FAULT: '', AXPULSAR_VERSION: '', AXCTL_PULSAR: '', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 120_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** Runs with --json and parses the report; fails the test with stderr when stdout is not JSON. */
export async function diagnoseJson(cwd: string, args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number | null; report: DiagnoseReport; stderr: string }> {
  const run = await diagnoseCli(cwd, [...args, '--json'], env);
  try {
    return { code: run.code, report: JSON.parse(run.stdout) as DiagnoseReport, stderr: run.stderr };
  } catch {
    throw new Error(`diagnose exited ${run.code} without JSON on stdout; stderr:\n${run.stderr}\nstdout:\n${run.stdout}`);
  }
}

/** The check of a guide step. */
export function step(report: DiagnoseReport, id: string) {
  const check = report.checks.find((c) => c.step === id);
  if (!check) throw new Error(`no check for step ${id}`);
  return check;
}
