// voxgrad evaluate: a checkpoint over a dataset's cases, scored as the papers score them (medpy's
// Dice, Jaccard, 95HD and directed ASD, in voxels unless --spacing), per case and on average, at the
// scans' own resolution whatever resolution the model was trained at.
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { openDataset } from '../datasets/dataset.ts';
import { METRIC_KEYS, scoreCases } from '../infer/score-cases.ts';
import type { CaseMetrics } from '../metrics/medpy.ts';
import { loadModel } from './model.ts';
import { binarize } from '../train/loop/batches.ts';
import { UsageError, type Command } from './command.ts';
import { checkpointPath, downsampleOption, modelFlagUsage, progressReporter, windowFlagOptions, windowFlagUsage, windowOptions } from './window-flags.ts';

const usage = `usage: voxgrad evaluate (--checkpoint C | --model NAME) --data ROOT [--list LIST] [--out DIR] [options]
  ROOT: <ID>/mri_norm2.h5 folders (the paper's LA layout) or MSD imagesTr/labelsTr; LIST: case IDs.
  Prints a per-case and mean table; writes DIR/evaluation.csv and DIR/evaluation.json (DIR default ".").
  An empty prediction scores Dice 0 and the volume's diagonal as each distance (medpy has none to
  give; leaving the case out would flatter the mean). evaluation.json marks it "empty".
  --spacing sx,sy,sz   distances in mm (default: voxels of the stored scans, as the papers report)
${modelFlagUsage}
${windowFlagUsage}`;

async function evaluate(argv: string[]): Promise<void> {
  const { values } = parseArgs({ args: argv, options: {
    ...windowFlagOptions, data: { type: 'string' }, list: { type: 'string' }, out: { type: 'string', default: '.' },
    spacing: { type: 'string' },
  } });
  const checkpoint = checkpointPath(values);
  if (!values.data) throw new UsageError('--data is required');
  const spacing = values.spacing ? (values.spacing.split(',').map(Number) as [number, number, number]) : undefined;
  if (spacing && (spacing.length !== 3 || spacing.some((v) => !(v > 0)))) throw new Error(`--spacing ${values.spacing}: expected three positive numbers`);
  const ds = await openDataset({ root: values.data, list: values.list });
  const model = await loadModel(checkpoint, values.backend);
  const downsample = downsampleOption(values.downsample, model);
  console.error(`${checkpoint}: backend ${model.backend}, ${ds.ids.length} case(s) from ${values.data}` +
                (downsample > 1 ? `, the model at 1/${downsample} resolution, scored at the scans'` : ''));
  const win = windowOptions(values, model);
  const width = Math.max(4, ...ds.ids.map((id) => id.length));
  console.log([`case`.padEnd(width), ...METRIC_KEYS.map((k) => k.padStart(10))].join(' '));
  const scores = await scoreCases(model.net, ds.ids, async (id) => {
    const c = await ds.read(id);
    return { id, image: c.image, label: binarize(c.label.data, 'nonzero') };
  }, { ...win, spacing, normalization: ds.normalization, downsample }, {
    progress: (i, id) => progressReporter(`[${i + 1}/${ds.ids.length}] ${id}`),
    scored: (row) => console.log(formatRow(row.id, row, width) + (row.empty ? '   (empty prediction)' : '')),
  });
  console.log(formatRow('mean', scores.mean, width));
  await mkdir(values.out, { recursive: true });
  const csv = [['case', ...METRIC_KEYS, 'empty'].join(','),
               ...scores.perCase.map((r) => [r.id, ...METRIC_KEYS.map((k) => r[k]), r.empty].join(',')),
               ['mean', ...METRIC_KEYS.map((k) => scores.mean[k]), scores.empty].join(',')];
  await writeFile(join(values.out, 'evaluation.csv'), `${csv.join('\n')}\n`);
  await writeFile(join(values.out, 'evaluation.json'), `${JSON.stringify({
    checkpoint, data: values.data, list: values.list ?? null, lcc: values.lcc,
    spacing: spacing ?? 'voxels', window: { patch: win.patch, stride: win.stride }, downsample,
    cases: scores.perCase, mean: scores.mean, empty: scores.empty,
  }, null, 2)}\n`);
  console.error(`wrote ${join(values.out, 'evaluation.csv')} and evaluation.json`);
}

function formatRow(id: string, r: CaseMetrics, width: number) {
  return [id.padEnd(width), ...METRIC_KEYS.map((k) => r[k].toFixed(4).padStart(10))].join(' ');
}

export const evaluateCommand: Command = { name: 'evaluate', summary: 'segment a dataset\'s cases with a model and score them against their labels', usage, run: evaluate };
