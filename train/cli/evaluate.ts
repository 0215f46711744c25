// voxgrad evaluate: a checkpoint over a dataset's cases, scored as the papers score them (medpy's
// Dice, Jaccard, 95HD and directed ASD, in voxels unless --spacing), per case and on average.
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { openDataset } from '../data/dataset.ts';
import { predictVolume } from '../infer/predict.ts';
import { caseMetrics } from '../metrics/medpy.ts';
import { dice, jaccard } from '../metrics/overlap.ts';
import { loadModel } from './model.ts';
import { progressReporter, windowFlagOptions, windowFlagUsage, windowOptions } from './window-flags.ts';

export const evaluateUsage = `usage: voxgrad evaluate --checkpoint C --data ROOT [--list LIST] [--out DIR] [options]
  ROOT: <ID>/mri_norm2.h5 folders (the paper's LA layout) or MSD imagesTr/labelsTr; LIST: case IDs.
  Prints a per-case and mean table; writes DIR/evaluation.csv and DIR/evaluation.json (DIR default ".").
  An empty prediction scores Dice 0 and no distances (medpy has none to give).
  --spacing sx,sy,sz   distances in mm (default: voxels, as the papers report)
${windowFlagUsage}`;

const KEYS = ['dice', 'jaccard', 'hd95', 'asd', 'assd'] as const;
type Row = { id: string } & Record<(typeof KEYS)[number], number | null>;

export async function evaluate(argv: string[]): Promise<void> {
  const { values } = parseArgs({ args: argv, options: {
    ...windowFlagOptions, data: { type: 'string' }, list: { type: 'string' }, out: { type: 'string', default: '.' },
    spacing: { type: 'string' },
  } });
  if (!values.checkpoint || !values.data) throw new Error(`--checkpoint and --data are required\n${evaluateUsage}`);
  const spacing = values.spacing ? (values.spacing.split(',').map(Number) as [number, number, number]) : undefined;
  if (spacing && (spacing.length !== 3 || spacing.some((v) => !(v > 0)))) throw new Error(`--spacing ${values.spacing}: expected three positive numbers`);
  const ds = await openDataset({ root: values.data, list: values.list });
  const model = await loadModel(values.checkpoint, values.backend);
  console.error(`${values.checkpoint}: backend ${model.backend}, ${ds.ids.length} case(s) from ${values.data}`);
  const win = windowOptions(values, model);
  const rows: Row[] = [];
  const width = Math.max(4, ...ds.ids.map((id) => id.length));
  console.log([`case`.padEnd(width), ...KEYS.map((k) => k.padStart(10))].join(' '));
  for (const [i, id] of ds.ids.entries()) {
    const c = await ds.load(id);
    const pred = await predictVolume(model.net, c.image, { ...win, onProgress: progressReporter(`[${i + 1}/${ds.ids.length}] ${id}`) });
    const row: Row = pred.label.some((v) => v > 0)
      ? { id, ...caseMetrics(pred.label, c.label.data, c.image.shape, spacing) }
      : { id, dice: dice(pred.label, c.label.data), jaccard: jaccard(pred.label, c.label.data), hd95: null, asd: null, assd: null };
    rows.push(row);
    console.log(formatRow(id, row, width));
  }
  const mean = Object.fromEntries(KEYS.map((k) => {
    const vals = rows.map((r) => r[k]).filter((v): v is number => v !== null);
    return [k, vals.length ? vals.reduce((a, b) => a + b, 0) / vals.length : null];
  })) as Record<(typeof KEYS)[number], number | null>;
  console.log(formatRow('mean', mean, width));
  await mkdir(values.out, { recursive: true });
  const csv = [['case', ...KEYS].join(','), ...[...rows, { id: 'mean', ...mean }].map((r) => [r.id, ...KEYS.map((k) => r[k] ?? '')].join(','))];
  await writeFile(join(values.out, 'evaluation.csv'), `${csv.join('\n')}\n`);
  await writeFile(join(values.out, 'evaluation.json'), `${JSON.stringify({
    checkpoint: values.checkpoint, data: values.data, list: values.list ?? null, lcc: values.lcc,
    spacing: spacing ?? 'voxels', window: { patch: win.patch, stride: win.stride },
    cases: rows, mean,
  }, null, 2)}\n`);
  console.error(`wrote ${join(values.out, 'evaluation.csv')} and evaluation.json`);
}

function formatRow(id: string, r: Partial<Record<(typeof KEYS)[number], number | null>>, width: number) {
  return [id.padEnd(width), ...KEYS.map((k) => (r[k] == null ? '—' : r[k]!.toFixed(4)).padStart(10))].join(' ');
}
