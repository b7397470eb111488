/**
 * The wrapper against the stand-in pulsar run as a real child process: as a plain command,
 * and through a `docker run ... pulsar` template (a script standing in for docker) from a
 * folder whose name has a space. Builds, simulations, refusals, faults, failures.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  PulsarToolchain, buildRecordsPath, pulsarBuild, pulsarLayerMapping, pulsarSim, readBuildRecords, type PulsarLine,
} from '../../host/toolchain';
import { sha256File } from '../../host/toolchain/files';
import { ExitCode, isAxError } from '../../shared/errors';
import { makeFakeDocker, makePulsarProject, PULSAR, removeProject, requireBuild } from './helpers';

let project: string;
let bin: string;
let dockerLog: string;
let template: string;

async function failure(promise: Promise<unknown>): Promise<{ code: string; exitCode: number; message: string; hint?: string }> {
  const err = await promise.then(() => null, (e: unknown) => e);
  if (!isAxError(err)) throw new Error(`expected an AxError, got ${String(err)}`);
  return { code: err.code, exitCode: err.exitCode, message: err.message, hint: err.hint };
}

function plain(extra: { fault?: string; version?: string; onLine?: (l: PulsarLine) => void; buildTimeoutMs?: number } = {}): PulsarToolchain {
  return new PulsarToolchain({
    pulsar: PULSAR,
    cwd: project,
    env: {},
    onLine: extra.onLine,
    buildTimeoutMs: extra.buildTimeoutMs,
    childEnv: { AXPULSAR_FAULT: extra.fault ?? '', AXPULSAR_VERSION: extra.version ?? '' },
  });
}

function docker(fault = ''): PulsarToolchain {
  return new PulsarToolchain({ pulsar: template, cwd: project, env: {}, childEnv: { AXPULSAR_FAULT: fault, AXPULSAR_VERSION: '' } });
}

const at = (p: string) => path.join(project, p);
const buildOptions = (out = 'out') => ({
  onnx: at('model.onnx'), config: at('config/config.prototxt'),
  output: at(`${out}/model.joint`), outputConfig: at(`${out}/output_config.prototxt`),
});
const simOptions = (out = 'out', model = 'model.joint') => ({
  onnx: at('model.onnx'), model: at(`${out}/${model}`), config: at(`${out}/output_config.prototxt`),
  inputs: [at('images/cat.jpg')], outputGt: at(`${out}/gt`),
});

beforeAll(() => {
  requireBuild();
  project = makePulsarProject('my project');
  bin = fs.mkdtempSync(path.join(os.tmpdir(), 'axctl-fake-docker-'));
  dockerLog = path.join(bin, 'argv.log');
  const script = makeFakeDocker(bin, dockerLog);
  template = `${script} run --rm -v "{cwd}:/data" -w /data --user {uid}:{gid} axera/neuwizard:0.6.1.14 pulsar`;
});
afterAll(() => {
  removeProject(project);
  fs.rmSync(bin, { recursive: true, force: true });
});

describe('pulsar as a plain command', () => {
  it('asks the version once and records it', async () => {
    const tool = plain({ version: '0.6.1.20 7ca3b9d5' });
    expect(await tool.version()).toEqual({ version: '0.6.1.20', commit: '7ca3b9d5', raw: '0.6.1.20\n7ca3b9d5' });
    expect(await tool.version()).toBe(await tool.version());
  });

  it('builds, streams the log, finds the lava_joint and records the build with the toolchain version', async () => {
    const lines: PulsarLine[] = [];
    const build = await pulsarBuild(plain({ version: '0.6.1.20 7ca3b9d5', onLine: (l) => lines.push(l) }), buildOptions());
    expect(build.toolchain.version).toBe('0.6.1.20');
    expect(build.joint.sha256).toBe(await sha256File(at('out/model.joint')));
    expect(build.outputConfig.path).toBe(at('out/output_config.prototxt'));
    expect(build.lavaJoint?.path).toBe(at('out/model.lava_joint'));
    expect(build.layerScores.map((s) => s.layer)).toContain('resnetv15_stage2_relu0_fwd');
    expect(build.lowLayers).toEqual([]);
    expect(lines.some((l) => l.text.endsWith(`File saved: ${at('out/model.joint')}`))).toBe(true);
    expect(build.argv.slice(1)).toEqual(['build', '--input', 'model.onnx', '--config', 'config/config.prototxt', '--output', 'out/model.joint', '--output_config', 'out/output_config.prototxt']);
    const records = await readBuildRecords(buildRecordsPath(project));
    expect(records.at(-1)).toMatchObject({
      joint: build.joint, outputConfig: build.outputConfig, config: build.config,
      toolchain: { version: '0.6.1.20', commit: '7ca3b9d5' }, pulsar: PULSAR,
    });
  });

  it('refuses the unexpanded config by the build record, with the fix', async () => {
    const f = await failure(pulsarSim(plain(), { ...simOptions(), config: at('config/config.prototxt') }));
    expect(f.code).toBe('SIM_CONFIG_IS_BUILD_INPUT');
    expect(f.exitCode).toBe(ExitCode.USAGE);
    expect(f.hint).toBe(`pass --config ${at('out/output_config.prototxt')}`);
  });

  it('refuses it by content without a record; forced through, the stand-in shows why (low cosine)', async () => {
    const elsewhere = fs.mkdtempSync(path.join(os.tmpdir(), 'axctl-nostate-'));
    try {
      const opts = { ...simOptions(), config: at('config/config.prototxt'), stateDir: elsewhere };
      expect((await failure(pulsarSim(plain(), opts))).code).toBe('SIM_CONFIG_NOT_EXPANDED');
      const forced = await pulsarSim(plain(), { ...opts, allowUnexpandedConfig: true });
      expect(forced.configCheck.method).toBe('skipped');
      expect(forced.verdict).toBe('precision-loss');
    } finally {
      fs.rmSync(elsewhere, { recursive: true, force: true });
    }
  });

  it('fails a build that pulsar fails, quoting its error', async () => {
    const f = await failure(pulsarBuild(plain({ fault: 'build-fail' }), buildOptions('failed')));
    expect(f.code).toBe('PULSAR_BUILD_FAILED');
    expect(f.message).toContain('exited with code 1: RuntimeError: neuwizard killed by SIGKILL');
    expect(fs.existsSync(at('failed/model.joint'))).toBe(false);
  });

  it('stops a pulsar that does not finish in time', async () => {
    const f = await failure(pulsarBuild(plain({ fault: 'hang', buildTimeoutMs: 1500 }), buildOptions('hung')));
    expect(f.code).toBe('PULSAR_TIMEOUT');
  });

  it('says in one line that the command does not exist', async () => {
    const tool = new PulsarToolchain({ pulsar: path.join(bin, 'no-such-pulsar'), cwd: project, env: {} });
    const f = await failure(pulsarBuild(tool, buildOptions('none')));
    expect(f.code).toBe('PULSAR_NOT_FOUND');
    expect(f.exitCode).toBe(2);
    expect(f.message).not.toContain('\n');
  });
});

describe('pulsar through a docker run template', () => {
  it('substitutes {cwd}/{uid}/{gid}, keeps the quoted mount one argument, hands over relative paths', async () => {
    await pulsarBuild(docker(), buildOptions('docker'));
    const sim = await pulsarSim(docker(), simOptions('docker'));
    const argv = fs.readFileSync(dockerLog, 'utf8').trimEnd().split('\n');
    const { uid, gid } = os.userInfo();
    expect(argv.slice(0, 9)).toEqual(['run', '--rm', '-v', `${project}:/data`, '-w', '/data', '--user', `${uid}:${gid}`, 'axera/neuwizard:0.6.1.14']);
    expect(argv.slice(9, -1)).toEqual([
      'pulsar', 'run', 'model.onnx', 'docker/model.joint', '--input', 'images/cat.jpg',
      '--config', 'docker/output_config.prototxt', '--output_gt',
    ]);
    // pulsar writes beside docker/gt; a run that succeeded is then swapped in (gt-output.ts).
    expect(argv[argv.length - 1]).toMatch(/^docker\/\.gt\.axctl-new-[0-9a-f]{8}$/);
    expect(sim.configCheck.method).toBe('build-record');
    expect(sim.toolchain).toMatchObject({ version: '0.6.1.14', commit: '4d9c2a71' });
  });

  it('parses the score table and the dumps', async () => {
    const sim = await pulsarSim(docker(), simOptions('docker'));
    expect(sim.scores).toHaveLength(1);
    const [score] = sim.scores;
    expect(score).toMatchObject({ layer: 'resnetv15_dense0_fwd', reference: 'model.onnx (with conf)', target: 'model.joint', low: false });
    expect(score.cosine).toBeGreaterThanOrEqual(0.98);
    expect(score.relErr2Percent).toBeGreaterThan(0);
    expect(sim.verdict).toBe('ok');
    expect(sim.dumps.map((d) => d.path)).toEqual(['docker/gt/input/data.bin', 'docker/gt/onnx/resnetv15_dense0_fwd.bin', 'docker/gt/joint/resnetv15_dense0_fwd.bin']);
    expect(fs.existsSync(at('docker/gt/joint/resnetv15_dense0_fwd.npy'))).toBe(true);
  });

  it('maps joint layers back to onnx layers with pulsar info --layer_mapping', async () => {
    const result = await pulsarLayerMapping(docker(), at('docker/model.joint'));
    expect(result.mappings).toHaveLength(8);
    expect(result.mappings[0]).toMatchObject({ lava: 'resnetv15_relu0_fwd', onnx: ['resnetv15_conv0_fwd', 'resnetv15_batchnorm0_fwd', 'resnetv15_relu0_fwd'] });
    expect(result.toolchain.version).toBe('0.6.1.14');
  });

  it('refuses a file outside the mounted folder before starting anything', async () => {
    const outside = path.join(os.tmpdir(), `axctl-outside-${process.pid}.jpg`);
    fs.writeFileSync(outside, 'x');
    try {
      const f = await failure(pulsarSim(docker(), { ...simOptions('docker'), inputs: [outside] }));
      expect(f.code).toBe('PULSAR_PATH_OUTSIDE_MOUNT');
    } finally {
      fs.rmSync(outside, { force: true });
    }
  });

  it('names a Docker daemon that is not running', async () => {
    const down = makeFakeDocker(bin, path.join(bin, 'down.log'), { daemonDown: true });
    const tool = new PulsarToolchain({ pulsar: `${down} run --rm -v {cwd}:/data -w /data img pulsar`, cwd: project, env: {} });
    const f = await failure(tool.version());
    expect(f.code).toBe('PULSAR_DOCKER_NOT_RUNNING');
    expect(f.exitCode).toBe(2);
  });
});

describe('precision-loss faults of the stand-in', () => {
  it('compile loss: the lava_joint is fine, the joint is below 0.98', async () => {
    await pulsarBuild(docker('compile-loss'), buildOptions('compile'));
    const joint = await pulsarSim(docker(), simOptions('compile'));
    const lava = await pulsarSim(docker(), simOptions('compile', 'model.lava_joint'));
    expect([joint.modelKind, joint.verdict, joint.scores[0].low]).toEqual(['joint', 'precision-loss', true]);
    expect(joint.scores[0].cosine).toBeLessThan(0.98);
    expect([lava.modelKind, lava.verdict]).toEqual(['lava_joint', 'ok']);
  });

  it('quantization loss: both below 0.98, and the per-layer table drops at the named layer', async () => {
    const build = await pulsarBuild(docker('quant-loss=resnetv15_stage3_conv0_fwd'), buildOptions('quant'));
    expect(build.lowLayers[0].layer).toBe('resnetv15_stage3_conv0_fwd');
    expect(build.layerScores.filter((s) => s.cosine < 0.98)).toEqual(build.lowLayers);
    const joint = await pulsarSim(docker(), simOptions('quant'));
    const lava = await pulsarSim(docker(), simOptions('quant', 'model.lava_joint'));
    expect([joint.verdict, lava.verdict]).toEqual(['precision-loss', 'precision-loss']);
  });
});
