/**
 * The guide's step 3.1: the config given to `pulsar run` must be the output_config that
 * `pulsar build` wrote, never the config.prototxt the build read. Given the unexpanded one,
 * pulsar run preprocesses the reference input differently from the compiled model and the
 * cosine it prints says nothing about the model.
 *
 * Two ways to tell, strongest first:
 * 1. The build record: .axctl/builds.json knows which output_config (by sha256) the build of
 *    this joint (or lava_joint) wrote, and which config it read.
 * 2. The content, when no record exists. pulsar build expands the user's shorthand into the
 *    task form of the configuration: a `tasks { ... }` block per compile task, whose
 *    `pulsar_conf.output_dir` the build sets itself (its log: "set task task_0's
 *    pulsar_conf.output_dir as /data"). A hand-written config has neither.
 */
import * as path from 'node:path';
import { readTextFile } from '../../shared/fs/regular-file';
import { get, parsePrototxt, type PtMessage } from '../../shared/parsers/prototxt';
import { buildRecordsPath, findBuildsOfModel, readBuildRecords, type BuildRecord } from './build-records';
import { ToolchainError } from './errors';
import { sha256File } from './files';
import { allInOrder } from '../../shared/all-in-order';

export type ConfigCheckMethod = 'build-record' | 'content' | 'skipped';

export interface ConfigCheck {
  /** How the config was judged to be the build's output_config. */
  readonly method: ConfigCheckMethod;
  /** The recorded build of the model, when there is one. */
  readonly build: BuildRecord | null;
  /** What in the content showed it is expanded (empty unless method is 'content'). */
  readonly evidence: readonly string[];
  /** Things worth saying that do not stop the run (e.g. the file changed since the build). */
  readonly warnings: readonly string[];
}

export interface ConfigExpansion {
  readonly expanded: boolean;
  /** Why: the markers found (expanded) or the shorthand found / markers missing (not expanded). */
  readonly evidence: readonly string[];
}

export interface CheckRunConfigOptions {
  readonly config: string;
  /** The model pulsar run compares with the onnx: a joint or a lava_joint. */
  readonly model: string;
  /** Folder holding .axctl/builds.json. */
  readonly stateDir: string;
  /** Skip the check (the user knows better, e.g. a toolchain whose output differs). */
  readonly allowUnexpanded?: boolean;
}

/** Looks at a parsed config and says whether pulsar build wrote it (see the file comment). */
export function inspectConfigExpansion(doc: PtMessage): ConfigExpansion {
  const tasks = doc.fields.filter((f) => f.name === 'tasks' && f.value.kind === 'message');
  const outputDir = [doc, ...tasks.map((t) => t.value as PtMessage)].some((m) => get(m, 'pulsar_conf.output_dir') !== undefined);
  if (tasks.length > 0 || outputDir) {
    const evidence = [];
    if (tasks.length > 0) evidence.push(`a tasks { } block at line ${tasks[0].line}`);
    if (outputDir) evidence.push('pulsar_conf.output_dir, which pulsar build sets');
    return { expanded: true, evidence };
  }
  const evidence = ['no tasks { } block and no pulsar_conf.output_dir (pulsar build writes both into every output_config)'];
  const legacy = doc.fields.find((f) => f.name === 'input_tensors' || f.name === 'output_tensors');
  if (legacy) evidence.push(`shorthand ${legacy.name} at line ${legacy.line}`);
  return { expanded: false, evidence };
}

export async function checkRunConfig(options: CheckRunConfigOptions): Promise<ConfigCheck> {
  if (options.allowUnexpanded) return { method: 'skipped', build: null, evidence: [], warnings: [] };
  const [configSha, modelSha] = await allInOrder([sha256File(options.config), sha256File(options.model)]);
  const builds = findBuildsOfModel(await readBuildRecords(buildRecordsPath(options.stateDir)), modelSha);
  const configPath = path.resolve(options.config);
  const modelPath = path.resolve(options.model);
  // The build that wrote this very file (a model may have been built identically twice).
  const wrote = builds.find((b) => b.outputConfig.sha256 === configSha);
  if (wrote) return { method: 'build-record', build: wrote, evidence: [], warnings: [] };
  // The one to suggest: the build of this model file, else the newest of this model.
  const build = builds.find((b) => b.joint.path === modelPath || b.lavaJoint?.path === modelPath) ?? builds[0];
  const warnings: string[] = [];
  if (build) {
    const modelName = path.basename(options.model);
    if (builds.some((b) => b.config.sha256 === configSha)) {
      throw new ToolchainError('SIM_CONFIG_IS_BUILD_INPUT',
        `${options.config}: this is the config pulsar build READ for ${modelName}; pulsar run needs the config the build WROTE (guide step 3.1), else its cosine compares differently preprocessed inputs`, {
          hint: `pass --config ${build.outputConfig.path}`,
        });
    }
    const changed = builds.find((b) => b.outputConfig.path === configPath);
    if (!changed) {
      throw new ToolchainError('SIM_CONFIG_OTHER_BUILD',
        `${options.config}: not the output config the build of ${modelName} wrote (${build.outputConfig.path}); a config from another build may preprocess differently`, {
          hint: `pass --config ${build.outputConfig.path}, or rebuild with axctl build and use its --output-config`,
        });
    }
    warnings.push(`${options.config} changed since pulsar build wrote it (${changed.createdAt}); checking its content instead`);
  }
  const expansion = inspectConfigExpansion(await parseConfigFile(options.config));
  if (!expansion.expanded) {
    throw new ToolchainError('SIM_CONFIG_NOT_EXPANDED',
      `${options.config}: looks like a pulsar build input config, not the output config the build writes (${expansion.evidence.join('; ')}); pulsar run needs the expanded one (guide step 3.1)`, {
        hint: 'run axctl build ... --output-config output_config.prototxt and pass that file to --config (--allow-unexpanded-config skips this check)',
      });
  }
  return { method: 'content', build: build ?? null, evidence: expansion.evidence, warnings };
}

async function parseConfigFile(file: string): Promise<PtMessage> {
  return parsePrototxt(await readTextFile(file, { what: 'a prototxt config' }), file);
}
