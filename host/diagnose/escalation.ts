/**
 * Step 5 of the guide: when the board differs from the simulator, what to send to Axera's
 * field engineer ("logs and conclusions; a minimal reproduction speeds it up"). The run_joint
 * log and the verify report are written into the work folder so the list names files that
 * exist; everything else is named where it already is.
 */
import * as path from 'node:path';
import { writeFileAtomic } from '../../shared/fs/atomic';
import { parseRunJointLog } from '../../shared/parsers/run-joint-log';
import { renderJson } from '../report';
import type { VerifyReport } from '../report/model';
import { findGtFile, scanGtFolder, tensorFileName, type GtFile } from '../../shared/parsers/gt-folder';
import { boardLabel } from '../board/session';

export interface EscalationFacts {
  readonly report: VerifyReport;
  /** The verify report as given (--verify-report), or null when diagnose ran it. */
  readonly reportFile: string | null;
  readonly joint: string | null;
  readonly gt: string | null;
  readonly toolchain: string | null;
  readonly workDir: string;
  /** The diagnose command line, for the engineer to rerun. */
  readonly argv: readonly string[];
}

const quote = (s: string) => (/^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`);

/**
 * The gt input file of each model input, as named in the gt folder (`rgb_image.BIN` from a
 * copy made on Windows: the board's file system tells case apart); `<name>.bin` where the
 * folder cannot be read or lacks the file, `<input>.bin` when the inputs are not known.
 */
async function inputFiles(gt: string, inputs: readonly string[]): Promise<string[]> {
  if (inputs.length === 0) return ['<input>.bin'];
  const found = await scanGtFolder(gt).then((folder) => folder.inputs.filter((f) => f.bin), () => [] as GtFile[]);
  // One input and one file: the pair, whatever its name (as verify pairs them).
  const only = inputs.length === 1 && found.length === 1 ? found[0] : undefined;
  return inputs.map((name) => {
    const file = only ?? findGtFile(found, name);
    return file?.bin ? path.basename(file.bin) : `${tensorFileName(name)}.bin`;
  });
}

export async function prepareEscalation(f: EscalationFacts): Promise<string[]> {
  const r = f.report;
  const dir = path.join(f.workDir, 'escalation');
  const logFile = path.join(dir, 'run_joint.log');
  await writeFileAtomic(logFile, r.run.log + (r.run.stderr ? `\n--- stderr ---\n${r.run.stderr}` : ''));
  const reportFile = f.reportFile ?? path.join(dir, 'verify.json');
  if (!f.reportFile) await writeFileAtomic(reportFile, renderJson(r));

  const log = parseRunJointLog(r.run.log);
  const joint = f.joint ?? r.model.path;
  const gt = f.gt ?? r.gt.path;
  const board = [boardLabel(r.board), r.board.hostname && `hostname ${r.board.hostname}`, r.board.agentVersion && `axagent ${r.board.agentVersion}`,
    (r.board.runJointVersion ?? log.runJointVersion) && `run_joint ${r.board.runJointVersion ?? log.runJointVersion}`].filter(Boolean).join(', ');
  const runtimeTools = log.toolsVersion ? `; the joint says it was built by tools ${log.toolsVersion}${log.toolsCommit ? ` (${log.toolsCommit})` : ''}` : '';
  const failing = r.outputs.filter((o) => !o.pass).map((o) => `${o.name} (${o.reasons[0] ?? 'outside tolerance'})`);
  const data = (await inputFiles(gt, r.io.inputs.map((i) => i.name))).map((file) => `gt/input/${file}`).join(';');
  return [
    'This diagnosis (conclusion, checks, evidence): the page axctl diagnose --html FILE writes and its --json output.',
    `The compiled model: ${joint} (sha256 ${r.model.hash}).`,
    `The gt folder pulsar run wrote: ${gt} (input/, joint/, onnx/).`,
    `run_joint's log on the board: ${logFile}.`,
    `The verify report: ${reportFile}${failing.length > 0 ? `; outputs that differ: ${failing.join('; ')}` : ''}.`,
    `Toolchain: pulsar ${f.toolchain ?? 'version unknown (run pulsar version)'}${runtimeTools}.`,
    `The board: ${board}; add its SDK and NPU driver versions (the board's /proc/ax_proc/ax_npu/ and the BSP release).`,
    `Minimal reproduction: copy the joint and gt/input to the board, run run_joint ${quote(path.basename(joint))} --data ${quote(data)} --bin-out-dir out/ --repeat 1, copy out/ back and run axctl compare ${quote(path.join(gt, 'joint'))} out --stage board; or rerun ${f.argv.map(quote).join(' ')}.`,
  ];
}
