/** The pulsar command template: splitting, placeholders, where it comes from, paths handed over. */
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { resolvePulsarInvocation, splitCommandLine, substitutePlaceholders, toolPath } from '../../host/toolchain';
import { isAxError } from '../../shared/errors';

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    return isAxError(err) ? err.code : `not an AxError: ${String(err)}`;
  }
  return undefined;
}

describe('splitCommandLine', () => {
  it('splits on blanks and keeps quoted words whole, like a POSIX shell', () => {
    expect(splitCommandLine(`docker run  --rm -v "{cwd}:/data" -w /data 'my image' pulsar`))
      .toEqual(['docker', 'run', '--rm', '-v', '{cwd}:/data', '-w', '/data', 'my image', 'pulsar']);
    expect(splitCommandLine(String.raw`a\ b "c \"d\" \\e" 'f\g' h""i ''`)).toEqual(['a b', 'c "d" \\e', 'f\\g', 'hi', '']);
    expect(splitCommandLine('  \t ')).toEqual([]);
  });

  it('refuses what only a shell would understand', () => {
    expect(codeOf(() => splitCommandLine('docker run -v $PWD:/data img pulsar'))).toBe('PULSAR_TEMPLATE_INVALID');
    expect(codeOf(() => splitCommandLine('docker run -v "$PWD:/data" img pulsar'))).toBe('PULSAR_TEMPLATE_INVALID');
    expect(codeOf(() => splitCommandLine('pulsar | tee log'))).toBe('PULSAR_TEMPLATE_INVALID');
    expect(codeOf(() => splitCommandLine('pulsar "unclosed'))).toBe('PULSAR_TEMPLATE_INVALID');
    expect(splitCommandLine(`pulsar '$HOME|x' "a\\$b"`)).toEqual(['pulsar', '$HOME|x', 'a$b']);
  });
});

describe('placeholders', () => {
  const vars = { cwd: '/home/u/my project', uid: '1000', gid: '100' };
  it('replaces {cwd}, {uid}, {gid} inside words and keeps {{ }} as braces', () => {
    expect(substitutePlaceholders('{cwd}:/data', vars)).toBe('/home/u/my project:/data');
    expect(substitutePlaceholders('{uid}:{gid}', vars)).toBe('1000:100');
    expect(substitutePlaceholders('{{.Name}}', vars)).toBe('{.Name}');
  });
  it('refuses an unknown placeholder', () => {
    expect(codeOf(() => substitutePlaceholders('{pwd}:/data', vars))).toBe('PULSAR_TEMPLATE_INVALID');
  });
});

describe('resolvePulsarInvocation', () => {
  it('takes --pulsar over AXCTL_PULSAR over the default, and substitutes after splitting', () => {
    const cwd = path.join(os.tmpdir(), 'a dir');
    const env = { AXCTL_PULSAR: 'docker run --rm -v {cwd}:/data -w /data --user {uid}:{gid} img pulsar' };
    const fromEnv = resolvePulsarInvocation({ cwd, env });
    expect(fromEnv.source).toBe('env');
    expect(fromEnv.argv).toEqual(['docker', 'run', '--rm', '-v', `${cwd}:/data`, '-w', '/data', '--user', `${os.userInfo().uid}:${os.userInfo().gid}`, 'img', 'pulsar']);
    expect(fromEnv.mountsCwd).toBe(true);
    const fromOption = resolvePulsarInvocation({ cwd, env, pulsar: '/opt/pulsar/bin/pulsar' });
    expect([fromOption.source, fromOption.argv, fromOption.mountsCwd]).toEqual(['option', ['/opt/pulsar/bin/pulsar'], false]);
    expect(resolvePulsarInvocation({ cwd, env: {} })).toMatchObject({ source: 'default', argv: ['pulsar'] });
  });

  it('refuses a docker template that mounts {cwd} without a working folder', () => {
    expect(codeOf(() => resolvePulsarInvocation({ env: {}, pulsar: 'docker run --rm -v {cwd}:/data img pulsar' }))).toBe('PULSAR_TEMPLATE_INVALID');
    expect(codeOf(() => resolvePulsarInvocation({ env: {}, pulsar: 'docker run --rm -v {cwd}:/data --workdir=/data img pulsar' }))).toBeUndefined();
  });
});

describe('toolPath', () => {
  const plain = resolvePulsarInvocation({ cwd: '/proj', env: {}, pulsar: 'pulsar' });
  const docker = resolvePulsarInvocation({ cwd: '/proj', env: {}, pulsar: 'docker run -v {cwd}:/data -w /data img pulsar' });
  it('hands over paths relative to the working folder', () => {
    expect(toolPath(plain, '/proj/model/a.onnx')).toBe('model/a.onnx');
    expect(toolPath(docker, '/proj')).toBe('.');
  });
  it('keeps outside paths absolute for a plain command and refuses them for a mounting template', () => {
    expect(toolPath(plain, '/elsewhere/a.onnx')).toBe('/elsewhere/a.onnx');
    expect(codeOf(() => toolPath(docker, '/elsewhere/a.onnx'))).toBe('PULSAR_PATH_OUTSIDE_MOUNT');
  });
});
