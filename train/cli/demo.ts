// `npm start` until training lands: what works today, said plainly. It reads the bundled
// hippocampus cases, summarises them, scores a label-only atlas baseline with the medpy metrics,
// and fits a tiny conv net to a synthetic sphere to show the engine training.
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { openDataset, type Case } from '../data/dataset.ts';
import { readVolume } from '../io/files.ts';
import { caseMetrics, type CaseMetrics } from '../metrics/medpy.ts';
import { largestComponent } from '../metrics/lcc.ts';
import { majorityAtlas, fitToShape } from './atlas.ts';
import { sphereDemo } from './sphere.ts';

// The CLI is bundled to dist/cli.js; the demo data sits in data/ beside dist/.
const bundledData = fileURLToPath(new URL('../data/hippocampus', import.meta.url));

const fmt = (m: CaseMetrics) =>
  `Dice ${m.dice.toFixed(3)}  Jaccard ${m.jaccard.toFixed(3)}  95HD ${m.hd95.toFixed(2)}  ASD ${m.asd.toFixed(2)}  ASSD ${m.assd.toFixed(2)}`;

function meanOf(rows: CaseMetrics[]): CaseMetrics {
  const keys = ['dice', 'jaccard', 'hd95', 'asd', 'assd'] as const;
  return Object.fromEntries(keys.map((k) => [k, rows.reduce((s, r) => s + r[k], 0) / rows.length])) as unknown as CaseMetrics;
}

export async function demo(argv: string[]): Promise<void> {
  const { values } = parseArgs({ args: argv, options: { data: { type: 'string' } } });
  const root = values.data ?? bundledData;
  const ds = await openDataset({ root });
  console.log(`Demo data: ${ds.ids.length} MSD hippocampus cases in ${root} (CC BY-SA 4.0, see its README.md)`);
  const cases: Case[] = [];
  for (const id of ds.ids) {
    const c = await ds.load(id);
    const raw = await readVolume(c.image.source);
    let lo = Infinity, hi = -Infinity, fg = 0;
    for (const v of raw.data) { lo = Math.min(lo, v); hi = Math.max(hi, v); }
    for (const v of c.label.data) fg += v;
    console.log(`  ${id.padEnd(24)} ${c.image.shape.join('×').padEnd(9)} ${c.image.spacing.join('×')} mm  `
      + `intensity ${lo.toFixed(0)}..${hi.toFixed(0)}  foreground ${(100 * fg / c.label.data.length).toFixed(1)}%`);
    cases.push(c);
  }

  const half = Math.ceil(cases.length / 2);
  const [train, held] = [cases.slice(0, half), cases.slice(half)];
  const atlas = majorityAtlas(train.map((c) => c.label));
  console.log(`\nBaseline (no learning, no image): majority vote of the ${train.length} first labels, scored on the other ${held.length}`);
  console.log('with medpy\'s metrics (distances in voxels = mm here); a trained network must beat this.');
  const plain: CaseMetrics[] = [], lcc: CaseMetrics[] = [];
  for (const c of held) {
    const pred = fitToShape(atlas.data, atlas.shape, c.label.shape);
    plain.push(caseMetrics(pred, c.label.data, c.label.shape));
    lcc.push(caseMetrics(largestComponent(pred, c.label.shape), c.label.data, c.label.shape));
    console.log(`  ${c.id.padEnd(24)} ${fmt(plain[plain.length - 1])}`);
  }
  console.log(`  ${'mean'.padEnd(24)} ${fmt(meanOf(plain))}`);
  console.log(`  ${'mean, largest component'.padEnd(24)} ${fmt(meanOf(lcc))}`);

  console.log('\nEngine check (synthetic data; UG-MCL training is not in this build yet):');
  await sphereDemo();
}
