// voxgrad metrics --pred P --label L [--spacing sx,sy,sz]: medpy's numbers for one case as JSON.
import { parseArgs } from 'node:util';
import { UsageError, type Command } from './command.ts';
import { readVolume } from '../io/files.ts';
import { caseMetrics } from '../metrics/medpy.ts';

const usage = `usage: voxgrad metrics --pred P --label L [--spacing sx,sy,sz]
  P, L: .nii, .nii.gz, .nrrd or .h5 (an h5 file reads its "label" dataset; FILE.h5:NAME picks another).
  Both are binarised (> 0). Distances are in voxels unless --spacing is given (mm per axis, in the
  file's axis order), as the papers' medpy calls do. Prints {"dice","jaccard","hd95","asd","assd"};
  asd is directed prediction → label (medpy's asd), assd pools both directions (medpy 0.5).`;

function parseSpacing(text: string): [number, number, number] {
  const s = text.split(',').map(Number);
  if (s.length !== 3 || s.some((v) => !(v > 0))) throw new Error(`--spacing ${text}: expected three positive numbers, e.g. 0.625,0.625,0.625`);
  return s as [number, number, number];
}

async function readMask(arg: string) {
  const m = /^(.*\.(?:h5|hdf5)):([^/\\]+)$/i.exec(arg);
  const [path, dataset] = m ? [m[1], m[2]] : [arg, 'label'];
  const vol = await readVolume(path, { dataset });
  return { ...vol, data: vol.data.map((v) => (v > 0 ? 1 : 0)) };
}

async function metrics(argv: string[]): Promise<void> {
  const { values } = parseArgs({ args: argv, options: { pred: { type: 'string' }, label: { type: 'string' }, spacing: { type: 'string' } } });
  if (!values.pred || !values.label) throw new UsageError('--pred and --label are required');
  const spacing = values.spacing ? parseSpacing(values.spacing) : undefined;
  const [pred, label] = await Promise.all([readMask(values.pred), readMask(values.label)]);
  if (pred.shape.join() !== label.shape.join())
    throw new Error(`${values.pred} is ${pred.shape.join('×')} but ${values.label} is ${label.shape.join('×')}: masks must have the same shape`);
  for (const [arg, m, what] of [[values.pred, pred, 'prediction'], [values.label, label, 'label']] as const)
    if (!m.data.includes(1)) throw new Error(`${arg}: the ${what} is empty, so 95HD and ASD are undefined (medpy raises here too)`);
  console.log(JSON.stringify(caseMetrics(pred.data, label.data, pred.shape, spacing)));
}

export const metricsCommand: Command = {
  name: 'metrics', summary: 'Dice, Jaccard, 95HD, ASD and ASSD of a predicted mask against a label, as medpy computes them', usage, run: metrics,
};
