/**
 * The pulsar toolchain wrapper: how pulsar is invoked, and build / run / info / version
 * through it. Other parts of axctl (diagnose, reports) import from here.
 */
export { ToolchainError } from './errors';
export {
  DEFAULT_PULSAR, PULSAR_ENV, resolvePulsarInvocation, splitCommandLine, substitutePlaceholders, toolPath,
  type PulsarInvocation, type ResolveOptions,
} from './invocation';
export { runPulsar, type PulsarLine, type PulsarProcessResult, type RunPulsarOptions } from './runner';
export { DEFAULT_TIMEOUTS, PulsarToolchain, type ToolchainOptions } from './toolchain';
export { formatToolchainVersion, parsePulsarVersion, type ToolchainVersion } from './version';
export { COSINE_THRESHOLD, isLowCosine } from './scores';
export {
  BUILD_RECORDS_FILE, buildRecordsPath, findBuildOfModel, findBuildsOfModel, readBuildRecords, type BuildRecord, type FileRecord,
} from './build-records';
export { parseTargetHardware, pulsarBuild, TARGET_HARDWARE, type BuildOptions, type BuildResult, type TargetHardware } from './build';
export { checkRunConfig, inspectConfigExpansion, type ConfigCheck, type ConfigCheckMethod, type ConfigExpansion } from './config-check';
export { modelKindOf, pulsarSim, type ModelKind, type ScoredOutput, type SimOptions, type SimResult } from './sim';
export { lavaToOnnx, onnxToLava, parseLayerMapping, pulsarLayerMapping, type LayerMapping, type LayerMappingResult } from './layer-mapping';
export { toolchainFromArgs, withPulsarOptions, type PulsarCliArgs } from './cli-options';
export { renderBuild, renderSim } from './render';
