// voxgrad predict: segment volumes with a checkpoint and write NIfTI masks with the source geometry.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { readVolume, writeNifti } from '../io/files.ts';
import { VOLUME_EXTENSIONS } from '../io/parse.ts';
import type { Normalization } from '../datasets/normalize.ts';
import { predictScan } from '../infer/predict.ts';
import { loadModel } from './model.ts';
import { UsageError, type Command } from './command.ts';
import { checkpointPath, downsampleOption, modelFlagUsage, progressReporter, windowFlagOptions, windowFlagUsage, windowOptions } from './window-flags.ts';

const usage = `usage: voxgrad predict (--checkpoint C | --model NAME) --input FILE|DIR|LIST --out DIR [options]
  FILE: .nii, .nii.gz, .nrrd or .h5 (its "image" dataset); DIR: every such file in it, or every
  <ID>/mri_norm2.h5 below it; LIST: a text file of volume paths or <ID> folders, relative to the
  list's folder or to the current one.
  Writes DIR/<name>.nii.gz (uint8 mask) and, with --probs, DIR/<name>_prob.nii.gz (foreground probability).
  --normalize zscore|none   per-volume intensity normalisation (default: none for .h5, zscore otherwise)
  --probs                   also write the probability map
${modelFlagUsage}
${windowFlagUsage}`;

const isVolumeFile = (p: string) => VOLUME_EXTENSIONS.some((ext) => p.toLowerCase().endsWith(ext));
const isDir = (p: string) => existsSync(p) && statSync(p).isDirectory();

/** The volumes an --input names, each with the name its outputs get. */
async function resolveInputs(input: string): Promise<{ path: string; name: string }[]> {
  const named = (path: string) => ({
    path,
    name: basename(path) === 'mri_norm2.h5' ? basename(dirname(path)) : basename(path).replace(/\.(nii\.gz|nii|nrrd|h5|hdf5)$/i, ''),
  });
  if (isDir(input)) {
    const entries = readdirSync(input).sort();
    const nested = entries.filter((e) => existsSync(join(input, e, 'mri_norm2.h5'))).map((e) => join(input, e, 'mri_norm2.h5'));
    const files = entries.filter(isVolumeFile).map((e) => join(input, e));
    const found = [...nested, ...files];
    if (!found.length) throw new Error(`${input}: no volumes (.nii, .nii.gz, .nrrd, .h5 or <ID>/mri_norm2.h5) in this folder`);
    return found.map(named);
  }
  if (!existsSync(input)) throw new Error(`${input}: no such file or folder`);
  if (isVolumeFile(input)) return [named(input)];
  const lines = (await readFile(input, 'utf8')).split(/\r?\n/).map((l) => l.trim()).filter(Boolean);
  if (!lines.length) throw new Error(`${input}: the list is empty`);
  return lines.map((line, i) => {
    for (const direct of [join(dirname(input), line), line]) {
      if (isVolumeFile(direct) && existsSync(direct)) return named(direct);
      if (existsSync(join(direct, 'mri_norm2.h5'))) return named(join(direct, 'mri_norm2.h5'));
    }
    throw new Error(`${input}, line ${i + 1}: "${line}" is neither a volume file nor a folder holding mri_norm2.h5`);
  });
}

async function predict(argv: string[]): Promise<void> {
  const { values } = parseArgs({ args: argv, options: {
    ...windowFlagOptions, input: { type: 'string' }, out: { type: 'string' }, probs: { type: 'boolean', default: false },
    normalize: { type: 'string' },
  } });
  const checkpoint = checkpointPath(values);
  if (!values.input || !values.out) throw new UsageError('--input and --out are required');
  if (values.normalize && values.normalize !== 'zscore' && values.normalize !== 'none') {
    throw new Error(`--normalize ${values.normalize}: expected zscore or none`);
  }
  const inputs = await resolveInputs(values.input);
  const model = await loadModel(checkpoint, values.backend);
  console.error(`${checkpoint}: ${model.net.numParameters()} parameters, backend ${model.backend}, ${inputs.length} volume(s)`);
  const win = windowOptions(values, model);
  const downsample = downsampleOption(values.downsample, model);
  if (downsample > 1) console.error(`the model runs at 1/${downsample} resolution; masks are written at each input's`);
  for (const [i, { path, name }] of inputs.entries()) {
    const image = await readVolume(path);
    const how = (values.normalize ?? (path.toLowerCase().endsWith('.h5') ? 'none' : 'zscore')) as Normalization;
    const pred = await predictScan(model.net, image, { ...win, normalization: how, downsample,
                                                       onProgress: progressReporter(`[${i + 1}/${inputs.length}] ${name}`) });
    const maskPath = join(values.out, `${name}.nii.gz`);
    await writeNifti(maskPath, { ...image, data: Float32Array.from(pred.label) }, 'uint8');
    if (values.probs) await writeNifti(join(values.out, `${name}_prob.nii.gz`), { ...image, data: pred.foreground }, 'float32');
    console.log(maskPath);
  }
}

export const predictCommand: Command = { name: 'predict', summary: 'segment volumes with a model (sliding window) and write NIfTI masks', usage, run: predict };
