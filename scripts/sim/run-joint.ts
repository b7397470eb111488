#!/usr/bin/env node
/**
 * A stand-in for the board's `run_joint` (AX620A, runtime 0.5.10) that runs simulator joints
 * (see model.ts). It follows the public run_joint.cc line by line: the same command line
 * (cmdline.h), the same printf strings in the same order, the same fallbacks to random input
 * data, the same dump names and sizes, assert() failures as SIGABRT, and C stdio buffering
 * (output still buffered when the process aborts or is killed is lost).
 *
 * Usage: run_joint [options] ... joint-file   (run with -? for the option list)
 * Environment: AXSIM_FAULT (faults.ts); AX_JOINT_MEMORY_DETAIL=ON as in the real tool.
 */
import { CmdlineParser } from './cmdline';
import { computeJoint, hash4, intRange, readElement, unit, writeElement } from './compute';
import { parseFaults, type Faults } from './faults';
import { dumpOutputs, prepareIo, readFileC, SOURCE_FILE } from './io';
import { dtypeBytes, isFloatDType, parseModel, type SimModel } from './model';
import { cIntDiv, formatFixed2 } from './printf';
import { briefIoInfo } from './report';
import { assertFail, CStdout, writeStderr } from './stdio';

/** What AX_JOINT_GetVersion() returns on the simulated board. */
export const RUN_JOINT_VERSION = '0.5.10';

const MAIN = 'int main(int, char**)';
const RUN_SYNC = 'AX_ERR_NPU_JOINT_SUCCESS == AX_JOINT_RunSync(joint_handle, joint_ctx, &io)';

/** Thrown out of the run loop when a `hang` fault makes AX_JOINT_RunSync block for ever. */
class Hang {}

function commandLine(): CmdlineParser {
  return new CmdlineParser()
    .footer('joint-file')
    .addString('mode', '', 'NPU mode, disable for no virtual npu; 1_1 for AX_NPU_VIRTUAL_1_1')
    .addString('data', 'd', "The format is file0;file1... to specify data files for input vars.\n\t'file*' would be directly loaded in binary format to tensor in order")
    .addString('bin-out-dir', '', 'Dump output tensors in binary format')
    .addInt('repeat', '', 'Repeat times for inference', 1)
    .addInt('warmup', '', 'Repeat times for warmup', 0)
    .addInt('stride_w', '', 'mock input data with extra width stride', 0)
    .addInt('override_batch_size', '', 'override batch size for dynamic batch model', 0)
    .addInt('wbt_index', '', 'select WBT for inference', 0)
    .addFlag('manual_alloc', 'p', 'manually alloc buffer with ax sys api instead of joint api')
    .addFlag('enable_trunc', 't', 'truncate input data size to model required size when using a larger input data, experimental function, will be removed in future release')
    .addString('cache-mode', '', "'CACHED' means use only cached CMM memory; 'NONE-CACHED' means use only none-cached CMM memory; 'SMART_CACHED' means use cached and none-cached CMM memory in turn", 'CACHED');
}

/** run_joint's split_string(content, ";"): "" gives no files, "a;" gives ["a"], "a;;b" keeps the empty name. */
export function splitString(content: string, delimiter: string): string[] {
  if (content.length === 0) return [];
  const parts: string[] = [];
  let i = 0;
  while (i < content.length) {
    let j = content.indexOf(delimiter, i);
    if (j < 0) j = content.length;
    parts.push(content.slice(i, j));
    i = j + delimiter.length;
  }
  return parts;
}

/** Microseconds on a clock that advances by the model's nominal NPU time plus real time. */
class RunClock {
  private readonly origin = process.hrtime.bigint();
  private virtualUs = 0;
  advance(us: number): void {
    this.virtualUs += us;
  }
  nowUs(): number {
    return this.virtualUs + Number((process.hrtime.bigint() - this.origin) / 1000n);
  }
}

function sleepMs(ms: number): void {
  if (ms > 0) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/** Returns the process exit code; aborts (SIGABRT) on the real tool's assertion failures. */
export function runJoint(argv: readonly string[], faults: Faults, out: CStdout): number {
  const args = commandLine();
  const check = args.parseCheck('run_joint', argv);
  if (check) {
    writeStderr(check.stderr);
    return check.exit;
  }
  out.printf(`run joint version: ${RUN_JOINT_VERSION}\n`);
  const inputFns = splitString(args.get<string>('data'), ';');
  if (args.rest().length === 0) {
    out.printf('must specify joint file\n');
    return 255;
  }
  const modelFn = args.rest()[0];
  const handleStart = process.hrtime.bigint();
  const joint = readFileC(modelFn);
  if (joint === null) {
    out.printf(`read file ${modelFn} failed\n`);
    return 255;
  }
  const parsed = parseModel(joint);
  const mode = args.get<string>('mode');
  if (mode === '') {
    if (!parsed.ok) {
      out.printf('\n[WARN]: get joint model type failed, disable virtual npu!\n');
      assertFail(SOURCE_FILE, 219, 'AX_S32 parse_npu_mode_from_joint(const AX_CHAR*, AX_U32, AX_NPU_SDK_EX_HARD_MODE_T*)', '0');
    }
    out.printf(parsed.model.npuType === 'disable' ? '\nvirtual npu disable!\n\n' : '\nvirtual npu mode is 1_1\n\n');
  } else if (mode === 'disable') {
    out.printf('\nvirtual npu disable\n\n');
  } else if (mode === '1_1') {
    out.printf('\nvirtual npu mode is 1_1\n\n');
  } else {
    out.printf(`unknown npu mode ${mode}\n`);
    assertFail(SOURCE_FILE, 596, MAIN, '0');
  }
  if (!parsed.ok) {
    assertFail(SOURCE_FILE, 603, MAIN, 'AX_ERR_NPU_JOINT_SUCCESS == AX_JOINT_CreateHandle(&joint_handle, joint.data(), joint.size())');
  }
  const model = parsed.model;
  const initUs = (model.profile.createHandleUs + Number((process.hrtime.bigint() - handleStart) / 1000n)) >>> 0;

  out.printf(`tools version: ${model.toolsVersion}\n${model.toolsHash === '' ? '' : `${model.toolsHash}\n`}`);
  const wbtIndex = args.get<number>('wbt_index');
  if (wbtIndex < 0) {
    out.printf(`invalid WBT index ${wbtIndex}\n`);
    assertFail(SOURCE_FILE, 616, MAIN, '0');
  }
  out.printf(`Using wbt ${wbtIndex}\n`);
  out.printf(briefIoInfo(model));

  const strideW = args.get<number>('stride_w');
  if (strideW !== 0) out.printf(`alloc buffer with stride ${strideW}\n`);
  const overrideBatchSize = args.get<number>('override_batch_size');
  out.printf('\n');
  const io = prepareIo(model, inputFns, {
    strideW,
    manualAlloc: args.exist('manual_alloc'),
    enableTrunc: args.exist('enable_trunc'),
    overrideBatchSize,
  }, out);
  out.printf('\n');

  const timing = runRounds(model, io.inputs, io.batch, args.get<number>('repeat'), args.get<number>('warmup'), faults);
  const outputs = timing.outputs ?? model.outputs.map((_, i) => Buffer.alloc(io.outputBufferSizes[i]));

  if (process.env.AX_JOINT_MEMORY_DETAIL === 'ON') {
    // The runtime's own report (raised with SIGUSR2) is not reproduced.
    out.printf('Report memory usage after AX_JOINT_RunSync\n\n');
  } else {
    out.printf('Not set environment variable to report memory usage!\n\n');
  }
  out.printf(`CMM usage: ${model.profile.cmmUsage}\n\n`);
  printTiming(model, initUs, timing, out);

  const outDir = args.get<string>('bin-out-dir');
  if (outDir !== '') {
    let batch = model.maxBatchSize === 0 ? 1 : model.maxBatchSize;
    if (overrideBatchSize !== 0) batch = overrideBatchSize;
    dumpOutputs(model, { outDir, batch, outputs, outputBufferSizes: io.outputBufferSizes, failIndex: faults.noDump }, out);
  }
  return 0;
}

interface Timing {
  /** Null when no round ran (--repeat 0): the output buffers were never written. */
  readonly outputs: Buffer[] | null;
  /** test_count after run_joint's `if (test_count > 1) test_count--`. */
  readonly rounds: number;
  readonly durationUs: number;
  readonly coreUs: Record<'neu' | 'onnx' | 'axe', number>;
  readonly totalUs: Record<'neu' | 'onnx' | 'axe', number>;
}

/** The warm-up and timed loops of run_joint, with its accounting quirks: with --repeat N > 1
 * the first round is not timed; with --repeat 1 the warm-up rounds are inside the timing. */
function runRounds(model: SimModel, inputs: Buffer[], batch: number, repeat: number, warmup: number, faults: Faults): Timing {
  const clock = new RunClock();
  let outputs: Buffer[] | null = null;
  const runSync = (line: number): void => {
    if (faults.abort) assertFail(SOURCE_FILE, line, MAIN, RUN_SYNC);
    if (faults.hang !== 'none') throw new Hang();
    if (outputs === null) outputs = applyFaults(model, computeJoint(model, inputs, batch), faults);
    sleepMs(faults.slowMs);
    clock.advance(model.profile.components.reduce((sum, c) => sum + c.coreUs + c.overheadUs, 0));
  };
  const coreUs = { neu: 0, onnx: 0, axe: 0 };
  const totalUs = { neu: 0, onnx: 0, axe: 0 };
  let timeStart = clock.nowUs();
  for (let i = 0; i < warmup; i++) runSync(687);
  for (let i = 0; i < repeat; i++) {
    runSync(691);
    if (repeat > 1 && i === 0) {
      timeStart = clock.nowUs();
      continue;
    }
    for (const c of model.profile.components) {
      coreUs[c.type] += c.coreUs;
      totalUs[c.type] += c.coreUs + c.overheadUs;
    }
  }
  const rounds = repeat > 1 ? repeat - 1 : repeat;
  return { outputs, rounds, durationUs: cIntDiv(clock.nowUs() - timeStart, rounds), coreUs, totalUs };
}

function printTiming(model: SimModel, initUs: number, t: Timing, out: CStdout): void {
  const init = { neu: 0, onnx: 0, axe: 0 };
  for (const c of model.profile.components) init[c.type] += c.initUs;
  // init_time_us is uint32_t: a negative overhead wraps around, as on the board.
  const overheadUs = (initUs - init.neu - init.onnx - init.axe) >>> 0;
  out.printf(`Create handle took ${formatFixed2(initUs / 1000)} ms (neu ${formatFixed2(init.neu / 1000)} ms, ` +
    `onnx ${formatFixed2(init.onnx / 1000)} ms, axe ${formatFixed2(init.axe / 1000)} ms, overhead ${formatFixed2(overheadUs / 1000)} ms)\n`);
  out.printf(`Run task took ${t.durationUs} us (${t.rounds} rounds for average)\n`);
  for (const [type, label] of [['neu', 'NEU'], ['onnx', 'ONNX'], ['axe', 'AXE']] as const) {
    if (!model.profile.components.some((c) => c.type === type)) continue;
    out.printf(`\tRun ${label} took an average of ${cIntDiv(t.coreUs[type], t.rounds)} us ` +
      `(overhead ${cIntDiv(t.totalUs[type] - t.coreUs[type], t.rounds)} us)\n`);
  }
  out.printf('\n');
  out.printf(`NPU perf cnt total: ${model.profile.perfCntTotal}\n`);
  model.profile.perfCntEu.forEach((v, k) => out.printf(`\tNPU perf cnt of eu(${k}): ${v}\n`));
}

/** perturb: 1% RMS noise on float outputs; off-by-one: the middle element of the first integer output. */
function applyFaults(model: SimModel, outputs: Buffer[], faults: Faults): Buffer[] {
  model.outputs.forEach((spec, o) => {
    const width = dtypeBytes(spec.dtype);
    const n = outputs[o].length / width;
    if (faults.perturb && isFloatDType(spec.dtype)) {
      let sumSq = 0;
      for (let k = 0; k < n; k++) sumSq += readElement(spec.dtype, outputs[o], k * width) ** 2;
      const rms = Math.sqrt(sumSq / n) || 1;
      for (let k = 0; k < n; k++) {
        const v = readElement(spec.dtype, outputs[o], k * width);
        writeElement(spec.dtype, outputs[o], k * width, v + 0.01 * rms * unit(hash4(0xfa017, o, k, 1)));
      }
    }
  });
  const intIndex = model.outputs.findIndex((spec) => !isFloatDType(spec.dtype));
  if (faults.offByOne && intIndex >= 0) {
    const spec = model.outputs[intIndex];
    const width = dtypeBytes(spec.dtype);
    const at = Math.floor(outputs[intIndex].length / width / 2) * width;
    const v = readElement(spec.dtype, outputs[intIndex], at);
    // Step down instead when +1 would leave the dtype's range.
    writeElement(spec.dtype, outputs[intIndex], at, v < intRange(spec.dtype)[1] ? v + 1 : v - 1);
  }
  return outputs;
}

function main(): void {
  const out = new CStdout();
  let faults: Faults;
  try {
    faults = parseFaults(process.env.AXSIM_FAULT);
  } catch (err) {
    writeStderr(`AXSIM_FAULT: ${(err as Error).message}\n`);
    process.exit(2);
  }
  try {
    const code = runJoint(process.argv.slice(2), faults, out);
    out.flush();
    process.exitCode = code;
  } catch (err) {
    if (!(err instanceof Hang)) throw err;
    // Blocked inside AX_JOINT_RunSync: nothing more is printed and nothing is flushed.
    if (faults.hang === 'ignore-term') process.on('SIGTERM', () => undefined);
    setInterval(() => undefined, 1 << 30);
  }
}

if (typeof require !== 'undefined' && require.main === module) main();
