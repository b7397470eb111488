/** Step 3.1 of the guide: pulsar run gets the output config the build wrote, nothing else. */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildRecordsPath, checkRunConfig, inspectConfigExpansion } from '../../host/toolchain';
import { addBuildRecord } from '../../host/toolchain/build-records';
import { sha256File } from '../../host/toolchain/files';
import { isAxError } from '../../shared/errors';
import { parsePrototxt } from '../../shared/parsers/prototxt';

const CONFIGS = path.join(__dirname, '..', 'fixtures', 'toolchain', 'configs');
const EXPANDED = `input_type: INPUT_TYPE_ONNX
tasks {
  input_path: "/data/model.onnx"
  dst_input_tensors { tensor_name: "data" color_space: TENSOR_COLOR_SPACE_BGR }
  pulsar_conf { output_dir: "/data" batch_size: 1 }
}
`;

let dir: string;
const at = (name: string) => path.join(dir, name);
async function refusal(promise: Promise<unknown>): Promise<{ code: string; message: string; hint?: string }> {
  const err = await promise.then(() => null, (e: unknown) => e);
  if (!isAxError(err)) throw new Error(`expected a refusal, got ${String(err)}`);
  return { code: err.code, message: err.message, hint: err.hint };
}

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'axctl-cfgcheck-'));
  fs.copyFileSync(path.join(CONFIGS, 'resnet18-rgb.prototxt'), at('config.prototxt'));
  fs.writeFileSync(at('output_config.prototxt'), EXPANDED);
  fs.writeFileSync(at('other_output_config.prototxt'), EXPANDED.replace('BGR', 'RGB'));
  fs.writeFileSync(at('model.joint'), 'joint bytes');
  fs.writeFileSync(at('unrecorded.joint'), 'another joint');
  const file = async (name: string) => ({ path: at(name), sha256: await sha256File(at(name)) });
  await addBuildRecord(buildRecordsPath(dir), {
    createdAt: '2024-01-02T03:04:05.000Z',
    onnx: await file('config.prototxt'),
    config: await file('config.prototxt'),
    outputConfig: await file('output_config.prototxt'),
    joint: await file('model.joint'),
    lavaJoint: null,
    targetHardware: 'AX620',
    toolchain: { version: '0.6.1.14', commit: '2124c702', raw: '0.6.1.14\n2124c702' },
    pulsar: 'pulsar',
  });
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('inspectConfigExpansion', () => {
  it('tells the docs\' input config from an expanded one, and says why', () => {
    const input = inspectConfigExpansion(parsePrototxt(fs.readFileSync(at('config.prototxt'), 'utf8')));
    expect(input.expanded).toBe(false);
    expect(input.evidence[0]).toContain('no tasks { } block');
    const expanded = inspectConfigExpansion(parsePrototxt(EXPANDED));
    expect(expanded).toEqual({ expanded: true, evidence: ['a tasks { } block at line 2', 'pulsar_conf.output_dir, which pulsar build sets'] });
    const legacy = inspectConfigExpansion(parsePrototxt('input_tensors { color_space: TENSOR_COLOR_SPACE_RGB }\n'));
    expect(legacy.evidence).toContain('shorthand input_tensors at line 1');
  });
});

describe('checkRunConfig', () => {
  it('accepts the output config the recorded build wrote (even copied elsewhere)', async () => {
    fs.copyFileSync(at('output_config.prototxt'), at('copy.prototxt'));
    const check = await checkRunConfig({ config: at('copy.prototxt'), model: at('model.joint'), stateDir: dir });
    expect(check.method).toBe('build-record');
    expect(check.build?.toolchain.version).toBe('0.6.1.14');
  });

  it('refuses the config the build read, naming the one it wrote', async () => {
    const r = await refusal(checkRunConfig({ config: at('config.prototxt'), model: at('model.joint'), stateDir: dir }));
    expect(r.code).toBe('SIM_CONFIG_IS_BUILD_INPUT');
    expect(r.message).toContain('step 3.1');
    expect(r.hint).toBe(`pass --config ${at('output_config.prototxt')}`);
  });

  it('refuses an expanded config of another build', async () => {
    const r = await refusal(checkRunConfig({ config: at('other_output_config.prototxt'), model: at('model.joint'), stateDir: dir }));
    expect(r.code).toBe('SIM_CONFIG_OTHER_BUILD');
  });

  it('judges the content when there is no record, and can be told to skip', async () => {
    const r = await refusal(checkRunConfig({ config: at('config.prototxt'), model: at('unrecorded.joint'), stateDir: dir }));
    expect(r.code).toBe('SIM_CONFIG_NOT_EXPANDED');
    expect(r.hint).toContain('--output-config');
    const ok = await checkRunConfig({ config: at('other_output_config.prototxt'), model: at('unrecorded.joint'), stateDir: dir });
    expect([ok.method, ok.build]).toEqual(['content', null]);
    const skipped = await checkRunConfig({ config: at('config.prototxt'), model: at('unrecorded.joint'), stateDir: dir, allowUnexpanded: true });
    expect(skipped.method).toBe('skipped');
  });

  it('warns when the recorded output config changed since the build, then checks its content', async () => {
    const edited = `${EXPANDED}# edited by hand\n`;
    const original = fs.readFileSync(at('output_config.prototxt'));
    fs.writeFileSync(at('output_config.prototxt'), edited);
    try {
      const check = await checkRunConfig({ config: at('output_config.prototxt'), model: at('model.joint'), stateDir: dir });
      expect(check.method).toBe('content');
      expect(check.warnings[0]).toContain('changed since pulsar build wrote it');
    } finally {
      fs.writeFileSync(at('output_config.prototxt'), original);
    }
  });

  it('tells apart two builds of the same joint bytes by their output configs and joint paths', async () => {
    fs.copyFileSync(at('model.joint'), at('twin.joint'));
    fs.writeFileSync(at('twin_output_config.prototxt'), `${EXPANDED}# twin build\n`);
    const file = async (name: string) => ({ path: at(name), sha256: await sha256File(at(name)) });
    const records = buildRecordsPath(dir);
    const before = fs.readFileSync(records);
    await addBuildRecord(records, {
      createdAt: '2024-02-03T04:05:06.000Z', onnx: await file('config.prototxt'), config: await file('config.prototxt'),
      outputConfig: await file('twin_output_config.prototxt'), joint: await file('twin.joint'), lavaJoint: null,
      targetHardware: null, toolchain: { version: null, commit: null, raw: '' }, pulsar: 'pulsar',
    });
    try {
      for (const config of ['output_config.prototxt', 'twin_output_config.prototxt']) {
        expect((await checkRunConfig({ config: at(config), model: at('model.joint'), stateDir: dir })).method).toBe('build-record');
      }
      const r = await refusal(checkRunConfig({ config: at('config.prototxt'), model: at('model.joint'), stateDir: dir }));
      expect(r.hint).toBe(`pass --config ${at('output_config.prototxt')}`);
    } finally {
      fs.writeFileSync(records, before);
    }
  });

  it('reports a corrupt record file as such', async () => {
    const other = fs.mkdtempSync(path.join(os.tmpdir(), 'axctl-cfgcheck-bad-'));
    fs.mkdirSync(path.join(other, '.axctl'));
    fs.writeFileSync(buildRecordsPath(other), '{ not json');
    const r = await refusal(checkRunConfig({ config: at('output_config.prototxt'), model: at('model.joint'), stateDir: other }));
    expect(r.code).toBe('BUILD_RECORDS_CORRUPT');
    fs.rmSync(other, { recursive: true, force: true });
  });

  it('names a damaged entry of the record file instead of failing inside it', async () => {
    const other = fs.mkdtempSync(path.join(os.tmpdir(), 'axctl-cfgcheck-entry-'));
    try {
      fs.mkdirSync(path.join(other, '.axctl'));
      const good = JSON.parse(fs.readFileSync(buildRecordsPath(dir), 'utf8')).builds[0];
      for (const [bad, says] of [
        [null, 'builds[1]: not an object'],
        [{ ...good, joint: { path: 'm.joint' } }, 'builds[1]: joint needs a path and a sha256'],
        [{ ...good, toolchain: 'x' }, 'builds[1]: toolchain needs its version text'],
      ] as const) {
        fs.writeFileSync(buildRecordsPath(other), JSON.stringify({ version: 1, builds: [good, bad] }));
        const r = await refusal(checkRunConfig({ config: at('output_config.prototxt'), model: at('model.joint'), stateDir: other }));
        expect(r.code).toBe('BUILD_RECORDS_CORRUPT');
        expect(r.message).toContain(says);
      }
      // A file of good entries (lavaJoint null included) is read as before.
      fs.writeFileSync(buildRecordsPath(other), JSON.stringify({ version: 1, builds: [{ ...good, lavaJoint: null }] }));
      expect((await checkRunConfig({ config: at('output_config.prototxt'), model: at('model.joint'), stateDir: other })).method).toBe('build-record');
    } finally {
      fs.rmSync(other, { recursive: true, force: true });
    }
  });
});
