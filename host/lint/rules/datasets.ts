/**
 * dataset_conf_calibration and dataset_conf_error_measurement (guide step 3, "增加量化数据集",
 * "调整量化策略"): a strategy the guide says may lose points, a calibration set too small to
 * be representative, and dataset paths that do not exist or are not tar archives.
 */
import * as path from 'node:path';
import type { PtField, PtMessage } from '../../../shared/parsers/prototxt';
import type { LintContext } from '../context';
import { inspectDatasetFile } from '../dataset-file';
import type { Finding } from '../finding';
import { asMessage, child, children, enumValue, findFields, numberOf } from '../tree';

/**
 * Below one default calibration batch (batch_size defaults to 32) the min/max statistics of
 * every layer come from fewer images than a single batch; every documented example uses 256.
 */
export const MIN_CALIBRATION_SIZE = 32;

interface DatasetKind {
  readonly block: string;
  readonly prefix: string;
  readonly label: string;
}
const CALIBRATION: DatasetKind = { block: 'dataset_conf_calibration', prefix: 'calib', label: 'calibration' };
const ERROR_MEASUREMENT: DatasetKind = { block: 'dataset_conf_error_measurement', prefix: 'error-measurement', label: 'error-measurement' };

export async function checkDatasets(ctx: LintContext): Promise<Finding[]> {
  const findings: Finding[] = [];
  const calibrations = findFields(ctx.doc, CALIBRATION.block);
  if (calibrations.length === 0) {
    const neuwizard = findFields(ctx.doc, 'neuwizard_conf')[0];
    findings.push(ctx.finding('calib-missing', 'warning', neuwizard?.field.line ?? 1,
      'no dataset_conf_calibration: the build has no calibration images to quantize with',
      'add neuwizard_conf { dataset_conf_calibration { path: "images.tar" type: DATASET_TYPE_TAR size: 256 } } with images like the training data'));
  }
  for (const { field } of calibrations) {
    const msg = asMessage(field);
    if (!msg) continue;
    findings.push(...checkStrategy(ctx, msg, field));
    findings.push(...(await checkSizeAndPaths(ctx, msg, field, CALIBRATION)));
  }
  for (const { field } of findFields(ctx.doc, ERROR_MEASUREMENT.block)) {
    const msg = asMessage(field);
    if (msg) findings.push(...(await checkSizeAndPaths(ctx, msg, field, ERROR_MEASUREMENT)));
  }
  return findings;
}

function checkStrategy(ctx: LintContext, msg: PtMessage, block: PtField): Finding[] {
  const field = child(msg, 'calibration_strategy');
  const strategy = enumValue(field?.value, ['CALIB_STRATEGY_']);
  if (strategy === 'PER_CHANNEL') {
    return [ctx.finding('calib-per-channel', 'warning', field?.line ?? block.line,
      'calibration_strategy PER_CHANNEL: the precision guide warns this strategy may lose points',
      'try calibration_strategy: CALIB_STRATEGY_PER_TENSOR with observer_method: OBSVR_METHOD_MIN_MAX or OBSVR_METHOD_MSE_CLIPPING (the guide\'s recommendation)')];
  }
  if (strategy === null || strategy === 'DEFAULT') {
    return [ctx.finding('calib-strategy-default', 'info', field?.line ?? block.line,
      'calibration_strategy not set: the config reference gives PER_CHANNEL as the default, which the guide says may lose points',
      'if cosine is low, try calibration_strategy: CALIB_STRATEGY_PER_TENSOR with OBSVR_METHOD_MIN_MAX or OBSVR_METHOD_MSE_CLIPPING')];
  }
  return [];
}

async function checkSizeAndPaths(ctx: LintContext, msg: PtMessage, block: PtField, kind: DatasetKind): Promise<Finding[]> {
  const findings: Finding[] = [];
  const typeField = child(msg, 'type');
  const type = enumValue(typeField?.value, ['DATASET_TYPE_']);
  const size = numberOf(msg, 'size');
  if (size && size.value < 1) {
    findings.push(ctx.finding(`${kind.prefix}-size-invalid`, 'error', size.line, `${kind.label} size ${size.value}: at least one image is needed`,
      'set size to the number of images to use (256 in the documented examples)'));
  } else if (kind === CALIBRATION && size && size.value < MIN_CALIBRATION_SIZE) {
    findings.push(ctx.finding('calib-size-small', 'warning', size.line,
      `calibration size ${size.value} is below ${MIN_CALIBRATION_SIZE} (one default calibration batch): too few images for representative quantization ranges`,
      'use a few hundred images like the training data (the documented examples use size: 256); the guide\'s first remedy for quantization loss is more calibration data'));
  }
  if (type !== null && type !== 'TAR') return findings;
  const paths = children(msg, 'path').map((f) => ({ field: f }));
  for (const item of children(msg, 'dataset_conf_items')) {
    const p = asMessage(item) && child(asMessage(item) as PtMessage, 'path');
    if (p) paths.push({ field: p });
  }
  if (paths.length === 0) {
    if (type === 'TAR') {
      findings.push(ctx.finding(`${kind.prefix}-path-missing`, 'error', block.line, `${kind.block} has type TAR but no path`,
        'add path: "images.tar" (relative to the config\'s folder)'));
    }
    return findings;
  }
  for (const { field } of paths) {
    if (field.value.kind !== 'string') continue;
    findings.push(...(await checkPath(ctx, field.value.value, field.line, kind, size?.value)));
  }
  return findings;
}

async function checkPath(ctx: LintContext, written: string, line: number, kind: DatasetKind, size: number | undefined): Promise<Finding[]> {
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(written)) return []; // oss://, http://: not checkable here
  const file = resolveDatasetPath(ctx, written);
  const info = await inspectDatasetFile(file);
  const shown = file === written ? written : `${written} (${file})`;
  switch (info.kind) {
    case 'missing': {
      const container = path.isAbsolute(written) && ctx.mounts.length === 0;
      return [ctx.finding(`${kind.prefix}-path-not-found`, 'error', line, `${kind.label} dataset ${shown} does not exist`,
        container
          ? 'a relative path is read from the config\'s folder; if this is a path inside the toolchain container, tell axctl lint the mount (--mount /data=HOST_FOLDER)'
          : 'fix the path; relative paths are read from the config\'s folder')];
    }
    case 'folder':
      return [ctx.finding(`${kind.prefix}-not-tar`, 'error', line, `${kind.label} dataset ${shown} is a folder; DATASET_TYPE_TAR needs a tar archive`,
        `pack it: tar cf ${path.basename(file)}.tar -C ${path.dirname(file)} ${path.basename(file)}`)];
    case 'unreadable':
      return [ctx.finding(`${kind.prefix}-path-not-found`, 'error', line, `${kind.label} dataset ${shown} cannot be read (${info.reason})`,
        'check its permissions')];
    case 'not-tar':
      return [ctx.finding(`${kind.prefix}-not-tar`, 'error', line, `${kind.label} dataset ${shown} is not a tar archive (it is ${info.looksLike})`,
        'pack the images with tar (tar cf images.tar images/); DATASET_TYPE_TAR reads tar or tar.gz')];
    case 'tar':
      if (info.files !== null && size !== undefined && size > info.files) {
        return [ctx.finding(`${kind.prefix}-size-exceeds-dataset`, 'warning', line,
          `${kind.label} size ${size} but ${shown} holds ${info.files === 0 ? 'no files' : `only ${info.files} file${info.files === 1 ? '' : 's'}`}`,
          'add images to the archive or lower size to what it holds')];
      }
      return [];
  }
}

/** Relative paths are read from the config's folder; container paths through the mounts. */
function resolveDatasetPath(ctx: LintContext, written: string): string {
  if (!path.isAbsolute(written)) return path.resolve(ctx.dir, written);
  for (const m of ctx.mounts) {
    const prefix = m.container.replace(/\/+$/, '');
    if (written === prefix || written.startsWith(`${prefix}/`)) return path.join(m.host, written.slice(prefix.length));
  }
  return written;
}
