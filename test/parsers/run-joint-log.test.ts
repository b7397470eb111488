import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { looksLikeRunJointLog, parseRunJointLog } from '../../shared/parsers/run-joint-log';

const fixture = (name: string) => readFileSync(path.join(__dirname, '../fixtures/parsers', name), 'utf8');

describe('parseRunJointLog on the real AX620 resnet18 log', () => {
  const log = parseRunJointLog(fixture('ax620-resnet18-8bit.log'));

  it('reads everything without problems or leftovers', () => {
    expect(log.problems).toEqual([]);
    expect(log.unrecognized).toEqual([]);
    expect(log.errors).toEqual([]);
    expect(log.assertions).toEqual([]);
  });

  it('reads the header', () => {
    expect(log.runJointVersion).toBe('0.5.10');
    expect(log.npuMode).toBe('1_1');
    expect(log.toolsVersion).toBe('0.6.1.4');
    expect(log.toolsCommit).toBe('59588c54');
    expect(log.wbt).toBe(0);
    expect(log.maxBatchSize).toBe(1);
    expect(log.dynamicBatch).toBe(false);
    expect(log.filterMode).toBe(false);
    expect(log.quantization).toBe('8 bit');
    expect(log.batchSize).toBe(1);
    expect(log.cmmUsage).toBe(13761984);
  });

  it('reads the tensors', () => {
    expect(log.inputs).toEqual([
      { index: 0, name: 'data', shape: [1, 224, 224, 3], layout: 'NHWC', dtype: 'uint8', colorSpace: 'RGB', q: null, memory: 'Physical', size: 150528, line: 14 },
    ]);
    expect(log.outputs).toEqual([
      { index: 0, name: 'resnetv15_dense0_fwd', shape: [1, 1000], layout: 'NHWC', dtype: 'float32', colorSpace: null, q: null, memory: 'Physical', size: 4000, line: 18 },
    ]);
  });

  it('reads the random-data fallback of the missing input', () => {
    expect(log.fallbacks).toEqual([{ index: 0, name: 'data', file: null, reason: 'not-provided', fill: 'random', line: 24 }]);
    expect(log.dumps).toEqual([]);
  });

  it('reads the timing (Run NEU avg 5378 us overhead 10)', () => {
    expect(log.createHandle).toEqual({ totalMs: 569.69, neuMs: 10.77, onnxMs: 0, axeMs: 0, overheadMs: 558.93 });
    expect(log.run).toEqual({ totalUs: 5415, rounds: 99 });
    expect(log.components).toEqual([{ name: 'NEU', avgUs: 5378, overheadUs: 10 }]);
    expect(log.npuPerf).toEqual({ total: 4190383, eu: [2543447, 0, 0, 2645657, 0] });
  });
});

describe('parseRunJointLog on the real AX620 resnet50 log with an AXE tail', () => {
  const log = parseRunJointLog(fixture('ax620-resnet50-axe-tail.log'));

  it('reads everything without problems', () => {
    expect(log.problems).toEqual([]);
    expect(log.unrecognized).toEqual([]);
  });

  it('reads quantization unknown, a BGR input and a Virtual NCHW output', () => {
    expect(log.runJointVersion).toBe('0.5.13');
    expect(log.toolsVersion).toBe('0.5.34.2');
    expect(log.toolsCommit).toBe('7ca3b9d5');
    expect(log.quantization).toBe('unknown');
    expect(log.inputs[0].colorSpace).toBe('BGR');
    expect(log.outputs[0]).toMatchObject({ name: 'resnetv24_dense0_fwd', layout: 'NCHW', memory: 'Virtual', dtype: 'float32', size: 4000 });
  });

  it('reads NEU and AXE components (AXE 43/4) and has no CMM or perf sections', () => {
    expect(log.components).toEqual([
      { name: 'NEU', avgUs: 32626, overheadUs: 22 },
      { name: 'AXE', avgUs: 43, overheadUs: 4 },
    ]);
    expect(log.createHandle?.axeMs).toBe(13.89);
    expect(log.run).toEqual({ totalUs: 32744, rounds: 99 });
    expect(log.cmmUsage).toBeNull();
    expect(log.npuPerf).toBeNull();
  });
});

describe('parseRunJointLog on hand-made logs', () => {
  it('reads Q values (Q=256 and Q = 128), tab indentation, names with / and an ONNX part', () => {
    const log = parseRunJointLog(fixture('ax630-yolo-q-values.log'));
    expect(log.problems).toEqual([]);
    expect(log.npuMode).toBe('3_1');
    expect(log.quantization).toBe('16 bit');
    expect(log.dynamicBatch).toBe(true);
    expect(log.maxBatchSize).toBe(2);
    expect(log.inputs.map((t) => [t.name, t.layout, t.dtype, t.colorSpace, t.q])).toEqual([
      ['images', 'NCHW', 'uint8', 'NV12', null],
      ['im_info/scale', 'NHWC', 'float32', 'FeatureMap', 256],
      ['rtv_thresh', 'NHWC', 'sint32', null, null],
    ]);
    expect(log.outputs.map((t) => [t.name, t.dtype, t.q, t.colorSpace, t.size])).toEqual([
      ['/model.24/m.0/Conv_output_0', 'sint16', 256, null, 3264000],
      ['381', 'sint8', 128, null, 408000],
      ['scores', 'float32', null, null, 408000],
    ]);
    expect(log.components.map((c) => c.name)).toEqual(['NEU', 'ONNX']);
    expect(log.run).toEqual({ totalUs: 18230, rounds: 1 });
    expect(log.createHandle?.onnxMs).toBe(120.4);
  });

  it('reads fallbacks of all three kinds, random and default fill', () => {
    const log = parseRunJointLog(fixture('ax630-yolo-q-values.log'));
    expect(log.fallbacks).toEqual([
      { index: 0, name: 'images', file: '/tmp/in/images.bin', reason: 'size-wrong', fill: 'random', line: 41 },
      { index: 1, name: 'im_info/scale', file: '/tmp/in/im_info_scale.bin', reason: 'read-failed', fill: 'random', line: 42 },
      { index: 2, name: 'rtv_thresh', file: null, reason: 'not-provided', fill: 'default', line: 43 },
    ]);
  });

  it('reads dumps of all three kinds', () => {
    const log = parseRunJointLog(fixture('ax630-yolo-q-values.log'));
    expect(log.dumps.map(({ line: _line, ...d }) => d)).toEqual([
      { index: 0, name: '/model.24/m.0/Conv_output_0', path: '/tmp/out/_model.24_m.0_Conv_output_0.bin', status: 'success' },
      { index: 1, name: '381', path: '/tmp/out/381.bin', status: 'failed' },
      { index: 2, name: 'scores', path: null, status: 'none' },
    ]);
  });

  it('keeps assertion lines and the abort', () => {
    const log = parseRunJointLog(fixture('ax620-assert.log'));
    expect(log.quantization).toBe('mix');
    expect(log.assertions).toEqual([
      "run_joint: /home/ax/npu/run_joint/src/run_joint.cpp:612: int main(int, char**): Assertion `AX_ERR_NPU_JOINT_SUCCESS == AX_JOINT_RunSync(joint_handle, joint_ctx, &io)' failed.",
    ]);
    expect(log.errors).toEqual(['Aborted (core dumped)']);
    expect(log.run).toBeNull();
    expect(log.problems).toEqual([]);
  });

  it('reports a log cut inside a tensor block, keeping what came before', () => {
    const log = parseRunJointLog(fixture('ax620-truncated.log'));
    expect(log.inputs[0].size).toBe(150528);
    expect(log.outputs).toHaveLength(1);
    expect(log.outputs[0]).toMatchObject({ name: 'resnetv15_dense0_fwd', shape: [], layout: null, size: null });
    expect(log.problems).toEqual([
      { line: 19, message: 'cannot read this run_joint line: Shape [1, 10' },
      { line: 18, message: 'Output[0] resnetv15_dense0_fwd has no Shape/Memory/Size line (log cut short?)' },
    ]);
  });

  it('reads run_joint error returns', () => {
    const log = parseRunJointLog('run joint version: 0.5.10\nread file /root/missing.joint failed\n');
    expect(log.errors).toEqual(['read file /root/missing.joint failed']);
    expect(parseRunJointLog('run joint version: 0.5.10\nmust specify joint file\n').errors).toEqual(['must specify joint file']);
  });

  it('accepts CRLF, colour codes and a commit hash only right after tools version', () => {
    const log = parseRunJointLog('tools version: 0.6.1.4\r\n\u001b[0m59588c54\r\nUsing wbt 0\r\ndeadbeef\r\n');
    expect(log.toolsCommit).toBe('59588c54');
    expect(log.wbt).toBe(0);
    expect(log.unrecognized).toEqual([{ line: 4, text: 'deadbeef' }]);
  });

  it('reports unknown layouts and quantization types instead of guessing', () => {
    const log = parseRunJointLog('Quantization Type is 4 bit\nInput[0]: x\n    Shape [1, 3] unknown uint8 GRAY\n    Memory Physical\n    Size 3\n');
    expect(log.quantization).toBe('unknown');
    expect(log.inputs[0].layout).toBeNull();
    expect(log.problems.map((p) => p.line)).toEqual([1, 3]);
  });

  it('copes with spaces in names and paths', () => {
    const log = parseRunJointLog([
      'Input[0]: my input',
      '    Shape [1, 2] NHWC uint8 GRAY',
      '    Memory Physical',
      '    Size 2',
      'read file /data/my files/in 0.bin for input[0] my input data size wrong, using default value',
      'dump output[0] my out as /tmp/out dir/my out.bin success',
    ].join('\n'));
    expect(log.problems).toEqual([]);
    expect(log.inputs[0].name).toBe('my input');
    expect(log.fallbacks[0]).toMatchObject({ file: '/data/my files/in 0.bin', name: 'my input', reason: 'size-wrong', fill: 'default' });
    expect(log.dumps[0]).toMatchObject({ name: 'my out', path: '/tmp/out dir/my out.bin', status: 'success' });
  });

  it('reads older and other variants of header and timing lines', () => {
    const log = parseRunJointLog([
      'virtual npu disable!',
      'Create handle took 570.64 ms (neu 10.89 ms, axe 0.00 ms, overhead 559.75 ms)',
      'Run task took 5420 us (1 rounds for average)',
      '\tRun AXE took an average of 43 us',
      'unknown npu mode 9',
    ].join('\n'));
    expect(log.npuMode).toBe('disable');
    expect(log.createHandle).toEqual({ totalMs: 570.64, neuMs: 10.89, onnxMs: null, axeMs: 0, overheadMs: 559.75 });
    expect(log.components).toEqual([{ name: 'AXE', avgUs: 43, overheadUs: null }]);
    expect(log.errors).toEqual(['unknown npu mode 9']);
    expect(log.problems).toEqual([]);
  });

  it('reports Shape/Memory/Size lines outside a tensor block', () => {
    const log = parseRunJointLog('Using batch size 1\n    Size 40\n');
    expect(log.problems).toEqual([{ line: 2, message: 'Size line outside an Input[i]/Output[i] block' }]);
  });

  it('never throws on garbage and finds nothing in it', () => {
    const garbage = Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 7919 + 13) % 256)).toString('utf8');
    const log = parseRunJointLog(garbage);
    expect(log.inputs).toEqual([]);
    expect(log.run).toBeNull();
    expect(looksLikeRunJointLog(garbage)).toBe(false);
  });
});

describe('looksLikeRunJointLog', () => {
  it('accepts real logs and a bare failing run', () => {
    expect(looksLikeRunJointLog(fixture('ax620-resnet18-8bit.log'))).toBe(true);
    expect(looksLikeRunJointLog(fixture('ax620-truncated.log'))).toBe(true);
    expect(looksLikeRunJointLog('must specify joint file\n')).toBe(true);
  });

  it('accepts what an aborted run leaves (stdout lost: only the assertion on stderr), and a bare read failure', () => {
    const assertion = "run_joint: run_joint.cc:88: int main(int, char**): Assertion `0 == ret' failed.\nAborted (core dumped)\n";
    expect(looksLikeRunJointLog(assertion)).toBe(true);
    expect(parseRunJointLog(assertion).assertions).toHaveLength(1);
    expect(looksLikeRunJointLog("/opt/bin/run_joint: npu.cc:9: f: Assertion `x' failed.\n")).toBe(true);
    expect(looksLikeRunJointLog('read file /data/m.joint failed\n')).toBe(true);
    // Another program's assertion is not a run_joint log.
    expect(looksLikeRunJointLog("myapp: main.c:3: main: Assertion `p' failed.\n")).toBe(false);
  });

  it('rejects other texts', () => {
    expect(looksLikeRunJointLog('')).toBe(false);
    expect(looksLikeRunJointLog(fixture('pulsar-run-resnet18.log'))).toBe(false);
    expect(looksLikeRunJointLog(fixture('config-resnet18.prototxt'))).toBe(false);
  });
});
