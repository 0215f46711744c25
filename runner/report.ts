// docs/RESULTS.md from the results files and logs the runner wrote, and nothing else: per dataset the
// setting, mean ± std over seeds per method, paired per-case comparisons with their tests, the
// pictures, each run's provenance, and the paper's Table 3 beside ours with every difference in scale.
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, relative } from 'node:path';
import { parseList } from '../datasets/list.ts';
import { METRIC_KEYS } from '../infer/score-cases.ts';
import { caseDice, caseIds, commonSeeds, pairedStats } from './paired.ts';
import { datasetFigureSvg, type MaskTrace } from './report-figures.ts';
import { METHOD_LABEL, pairedCells, pm } from './report-format.ts';
import { ablationSection, labelRateFigure, labelRateSection } from './report-studies.ts';
import { convergenceLines, crossCheckCurve, crossCheckSection, resolutionPhrase, settings, stillRising } from './report-settings.ts';
import { logsDir, resultsDir, type Plan } from './plan.ts';
import type { RunResults } from './run.ts';
import { mean } from './stats.ts';

interface PaperRow { method: string; label: string; labelled: number; unlabelled: number; dice: number; jaccard: number; hd95: number; asd: number }
interface Paper { source: string; setting: Record<string, string | number>; rows: PaperRow[] }

function readResults(plan: Plan): RunResults[] {
  const dir = resultsDir(plan);
  if (!existsSync(dir)) return [];
  const order = new Map(plan.runs.map((r, i) => [r.name, i]));
  return readdirSync(dir).filter((f) => f.endsWith('.json')).map((f) => JSON.parse(readFileSync(join(dir, f), 'utf8')) as RunResults)
    .sort((a, b) => (order.get(a.name) ?? 1e9) - (order.get(b.name) ?? 1e9) || a.name.localeCompare(b.name));
}

const listLengths = new Map<string, number>();
/** Cases in a run's training list, each list read once. */
function trainCount(plan: Plan, r: RunResults): number {
  const path = join(plan.dir, r.config.data.train);
  if (!listLengths.has(path)) listLengths.set(path, parseList(readFileSync(path, 'utf8')).length);
  return listLengths.get(path)!;
}
/** The paper's row a run stands for: a supervised run with every training case labelled is the upper bound. */
const kindOf = (plan: Plan, r: RunResults) => (r.method === 'supervised' && r.config.data.labeled >= trainCount(plan, r) ? 'full' : r.method);

function datasetName(root: string) {
  const b = basename(root.replace(/\/cases$/, ''));
  return b === 'hippocampus' ? 'Hippocampus (MSD Task04, label > 0)' : b === 'la' ? 'Left atrium (LA 2018)' : b;
}

/** The name every group of a section starts with ("la-2x"), for the pictures of one of a dataset's settings. */
function commonStem(groups: string[]): string {
  const parts = groups.map((g) => g.split('-'));
  let k = 0;
  while (k < parts[0].length - 1 && parts.every((p) => p.length > k + 1 && p[k] === parts[0][k])) k++;
  return parts[0].slice(0, Math.max(k, 1)).join('-');
}

function maskTraces(plan: Plan, runs: RunResults[]): MaskTrace[] {
  const out: MaskTrace[] = [];
  for (const r of runs) {
    const path = join(plan.dir, r.log);
    if (!existsSync(path)) continue;
    const points: [number, number][] = [];
    for (const line of readFileSync(path, 'utf8').split('\n')) {
      if (!line.includes('"maskFraction"')) continue;
      const rec = JSON.parse(line);
      points.push([rec.iteration, rec.maskFraction]);
    }
    if (points.length) out.push({ name: r.name, group: r.group, points });
  }
  return out;
}

function pairedSection(a: string, b: string, runs: RunResults[]): string[] {
  const A = runs.filter((r) => r.group === a), B = runs.filter((r) => r.group === b);
  const seeds = commonSeeds(A, B);
  if (!seeds.length) return [`*${a} − ${b}: no seed has finished for both yet.*`, ''];
  const ids = caseIds(A[0]);
  const row = (label: string, at: number[]) => `| ${label} | ${pairedCells(pairedStats(caseDice(A, at, ids), caseDice(B, at, ids))).join(' | ')} |`;
  const rows = seeds.map((s) => row(`seed ${s}`, [s]));
  if (seeds.length > 1) rows.push(row(`case means over seeds ${seeds.join(', ')}`, seeds));
  const overall = mean(seeds.map((s) => A.find((r) => r.seed === s)!.validation.mean.dice - B.find((r) => r.seed === s)!.validation.mean.dice));
  const verdict = overall > 0 ? `higher` : overall < 0 ? `lower` : 'equal';
  return [
    `Paired by validation case (${ids.length} cases), Dice of ${a} − ${b}, in points; sign test and Wilcoxon signed-rank test, two-sided:`, '',
    `| pairing | mean Δ Dice | ${a} better / worse / tied | sign test p | Wilcoxon p |`, '|---|---|---|---|---|',
    ...rows, '',
    `**${a}'s mean Dice is ${verdict} than ${b}'s** by ${(100 * Math.abs(overall)).toFixed(2)} points on average over ${seeds.length} seed(s)` +
    (seeds.length > 1 ? '; the pooled row tests whether that holds case by case.' : '.'),
    '',
  ];
}

export function writeReport(plan: Plan): string {
  const runs = readResults(plan);
  const paper = JSON.parse(readFileSync(plan.paper, 'utf8')) as Paper;
  const reportDir = dirname(plan.report);
  const figDir = join(reportDir, 'results');
  mkdirSync(figDir, { recursive: true });
  const rel = (p: string) => relative(reportDir, p);
  // Files named in the text read from the repository root, where the npm scripts run.
  const fromRoot = (p: string) => relative(process.cwd(), p);
  const out: string[] = [
    '# voxgrad results', '',
    `Written by \`npm run results\` from ${fromRoot(resultsDir(plan))}/*.json and ${fromRoot(logsDir(plan))}/*.jsonl, which \`npm run experiments\` ` +
    `wrote; every number below comes from those files. Do not edit by hand. To rerun a run, delete its results file and run ` +
    `\`npm run experiments -- --only NAME\` (runs are bitwise reproducible on wasm at the same seed and thread count). The plan: ${fromRoot(plan.file)}.`, '',
    'Metrics as medpy computes them on the binary mask of the final student (sliding window with the training patch, no ' +
    'post-processing), at the scans\' own resolution whatever resolution a model was trained at: Dice and Jaccard in %, 95HD and ASD in voxels; an empty prediction scores Dice 0 and the volume diagonal as each distance. ' +
    '± is the sample standard deviation over seeds of each run\'s mean. Training times are wall time on a shared 2-core machine, ' +
    'often beside builds and tests (which leave the results bitwise the same): they say what a run took, not how fast voxgrad is ' +
    '(docs/performance.md measures that).', '',
  ];
  const pending = plan.runs.filter((p) => !runs.some((r) => r.name === p.name));
  if (pending.length) out.push(`**Not run yet** (${pending.length} of ${plan.runs.length} planned): ${pending.map((p) => p.name).join(', ')}.`, '');

  const datasets = [...new Set(runs.map((r) => r.config.data.root))];
  const sections = datasets.flatMap((root) => settings(runs.filter((r) => r.config.data.root === root)));
  const sectionName = (ds: RunResults[]) => {
    const name = datasetName(ds[0].config.data.root), c = ds[0].config;
    const one = sections.filter((s) => s[0].config.data.root === c.data.root).length === 1;
    return `${one ? name : `${name} ${resolutionPhrase(ds[0])}, ${c.patch.join('×')} crops, ${c.iterations} iterations`}${stillRising(ds) ? ' (undertrained)' : ''}`;
  };
  for (const ds of sections) {
    const c = ds[0].config, n = trainCount(plan, ds[0]);
    const name = sectionName(ds);
    const scale = (c.data.downsample ?? 1) > 1
      ? `Scans reduced ${c.data.downsample}× per axis for training (image block means, label block majority); scored at the scans' own resolution. `
      : '';
    out.push(`## ${name}`, '',
      `Training list ${fromRoot(join(plan.dir, c.data.train))} (${n} cases; the first ${c.data.labeled} labelled for the semi-supervised runs), validation on ` +
      `${ds[0].validation.perCase.length} other cases (${fromRoot(join(plan.dir, ds[0].validation.list))}), never trained on. ${scale}Crops ${c.patch.join('×')}, ` +
      `batch ${c.batch.labeled} labelled + ${c.batch.unlabeled} unlabelled, ${c.model.nFilters} filters, ${c.iterations} iterations, ` +
      `SGD lr ${c.optimizer.base} ×${c.optimizer.gamma} every ${c.optimizer.step} iterations, λ = ${c.consistency.weight}·ramp over ${c.consistency.rampup} steps ` +
      `of ${c.consistency.every} iterations; ${[...new Set(ds.map((r) => `${r.backend}, ${r.threads} threads`))].join('; ')}.`, '',
      '| method | config | labelled / unlabelled | seeds | Dice (%) | Jaccard (%) | 95HD (vox) | ASD (vox) | empty masks | training (min per run) |',
      '|---|---|---|---|---|---|---|---|---|---|');
    for (const g of [...new Set(ds.map((r) => r.group))]) {
      const G = ds.filter((r) => r.group === g);
      const k = kindOf(plan, G[0]);
      const unl = k === 'supervised' || k === 'full' ? 0 : n - G[0].config.data.labeled;
      const m = (key: (typeof METRIC_KEYS)[number], scale: number, digits: number) => pm(G.map((r) => r.validation.mean[key]), scale, digits);
      out.push(`| ${METHOD_LABEL[k]} | ${g} | ${G[0].config.data.labeled} / ${unl} | ${G.map((r) => r.seed).join(', ')} | ${m('dice', 100, 2)} | ` +
        `${m('jaccard', 100, 2)} | ${m('hd95', 1, 2)} | ${m('asd', 1, 2)} | ${G.reduce((s, r) => s + r.validation.empty, 0)} | ` +
        `${pm(G.map((r) => r.trainSeconds / 60), 1, 1)} |`);
    }
    out.push('', ...convergenceLines(ds));
    for (const [a, b] of plan.compare) if (ds.some((r) => r.group === a) && ds.some((r) => r.group === b)) out.push(...pairedSection(a, b, ds));
    const checks = (plan.crossChecks ?? []).filter((x) => ds.some((r) => r.name === x.run));
    out.push(...crossCheckSection(plan, ds, checks));
    const masks = maskTraces(plan, ds);
    const stem = sections.filter((s) => s[0].config.data.root === c.data.root).length === 1
      ? basename(c.data.root.replace(/\/cases$/, '')) : commonStem(ds.map((r) => r.group));
    const fig = join(figDir, `${stem}.svg`);
    const crossCurves = checks.map((x) => ({ group: `${x.run} (${x.label})`, iterations: c.iterations, curve: crossCheckCurve(plan, x) }))
      .filter((x) => x.curve.length);
    writeFileSync(fig, datasetFigureSvg(name, [...ds, ...crossCurves], masks));
    out.push(`![Validation Dice of every config and the uncertainty mask's kept fraction](${rel(fig)})`, '');
    for (const g of [...new Set(masks.map((m) => m.group))]) {
      const M = masks.filter((m) => m.group === g);
      const part = (from: number, to: number) => (100 * mean(M.map((m) => mean(m.points.slice(Math.floor(m.points.length * from), Math.max(1, Math.floor(m.points.length * to))).map(([, v]) => v))))).toFixed(1);
      out.push(`- ${g} (${M.length} seed(s)): the uncertainty mask kept ${part(0.9, 1)} % of the voxels on average over the last 10 % of iterations ` +
               `(${part(0, 0.1)} % over the first 10 %).`);
    }
    if (masks.length) out.push('');
    const rates = labelRateFigure(figDir, stem);
    out.push(...labelRateSection(plan, ds, name, rates, rel(rates)), ...ablationSection(plan, ds));
  }

  out.push('## Runs', '', '| run | method | seed | Dice (%) | empty | training (min) | scoring (s) | backend, threads | CPU | commit |', '|---|---|---|---|---|---|---|---|---|---|');
  for (const r of runs) {
    out.push(`| ${r.name} | ${r.method} | ${r.seed} | ${(100 * r.validation.mean.dice).toFixed(2)} | ${r.validation.empty} | ${(r.trainSeconds / 60).toFixed(1)} | ` +
             `${r.evaluateSeconds.toFixed(0)} | ${r.backend}, ${r.threads} | ${r.machine.cpu} (${r.machine.cores} cores) | ${r.commit?.slice(0, 7) ?? '?'}${r.dirty ? ' (uncommitted changes)' : ''} |`);
  }
  out.push('');

  out.push('## The paper\'s Table 3 beside ours', '',
    `Paper: ${paper.source}: ${Object.entries(paper.setting).map(([k, v]) => `${k} ${v}`).join(', ')}. Ours: the tables above. ` +
    'The columns are not comparable as numbers; they differ in every way listed under each dataset:', '');
  for (const ds of sections) {
    const c = ds[0].config;
    const differences = [
      [resolutionPhrase(ds[0]).replace('at ', ''), (c.data.downsample ?? 1) === 1, 'the original resolution'],
      [`crops ${c.patch.join('×')}`, c.patch.join('×') === '112×112×80', 'crops 112×112×80'],
      [`${c.model.nFilters} filters`, c.model.nFilters === 16, '16'],
      [`${c.iterations} iterations`, c.iterations === 6000, '6000'],
      [`${c.data.labeled} labelled of ${trainCount(plan, ds[0])}`, c.data.labeled === 16 && trainCount(plan, ds[0]) === 80, '16 of 80'],
      [`validated on ${ds[0].validation.perCase.length} cases`, false, 'the 20 test cases'],
    ].filter(([, same]) => !same).map(([ours, , theirs]) => `${ours} instead of ${theirs}`);
    out.push(`- ${sectionName(ds)}: ${differences.join('; ')}; seeds as listed, the paper one run.`);
  }
  out.push('', `| method | paper Dice | paper Jaccard | paper 95HD | paper ASD | ${sections.map((ds) => `ours: ${sectionName(ds)}, Dice`).join(' | ')} |`,
           `|---|---|---|---|---|${sections.map(() => '---|').join('')}`);
  for (const row of paper.rows) {
    const ours = sections.map((ds) => {
      const G = ds.filter((r) => kindOf(plan, r) === row.method);
      return G.length ? pm(G.map((r) => r.validation.mean.dice), 100, 2) : '—';
    });
    out.push(`| ${row.label} (${row.labelled}/${row.unlabelled}) | ${row.dice.toFixed(2)} | ${row.jaccard.toFixed(2)} | ${row.hd95.toFixed(2)} | ${row.asd.toFixed(2)} | ${ours.join(' | ')} |`);
  }
  out.push('');
  writeFileSync(plan.report, out.join('\n'));
  return plan.report;
}
