// How the report splits a dataset's runs: one section per training setting (resolution, crops,
// filters, iterations), each saying whether its runs had stopped improving, and the cross-checks of a
// run against a second implementation trained in the same setting (PyTorch, test/train_la_reference.py)
// and scored by `voxgrad evaluate`.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { caseIds, pairedStats } from './paired.ts';
import type { Plan } from './plan.ts';
import { pairedCells, pm } from './report-format.ts';
import type { RunResults } from './run.ts';
import { std } from './stats.ts';

/** Validation Dice must gain less than this over the last fifth of a run for it to count as converged. */
export const PLATEAU_POINTS = 1;

const downsampleOf = (r: RunResults) => r.config.data.downsample ?? 1;

export function settingKey(r: RunResults): string {
  const c = r.config;
  return JSON.stringify([c.data.root, downsampleOf(r), c.patch, c.model.nFilters, c.iterations]);
}

/** The runs of one dataset in sections of one setting each, in the order their first run appears. */
export function settings(ds: RunResults[]): RunResults[][] {
  const keys = [...new Set(ds.map(settingKey))];
  return keys.map((k) => ds.filter((r) => settingKey(r) === k));
}

/** "at 1/2 resolution", or nothing at the scans' own. */
export const resolutionPhrase = (r: RunResults) => (downsampleOf(r) > 1 ? `at 1/${downsampleOf(r)} resolution` : 'at full resolution');

/** Best validation Dice in the last fifth of the run minus the best before it. */
export function lateGain(r: RunResults): number | null {
  const cut = 0.8 * r.iterations;
  const before = r.curve.filter((c) => c.iteration <= cut), after = r.curve.filter((c) => c.iteration > cut);
  if (!before.length || !after.length) return null;
  return Math.max(...after.map((c) => c.dice)) - Math.max(...before.map((c) => c.dice));
}

export const stillRising = (G: RunResults[]) => G.some((r) => (lateGain(r) ?? 0) >= PLATEAU_POINTS / 100);

/** One line per group: converged or still rising, from its validation curve alone. */
export function convergenceLines(section: RunResults[]): string[] {
  const groups = [...new Set(section.map((r) => r.group))];
  const lines = groups.map((g) => {
    const G = section.filter((r) => r.group === g);
    const gains = G.map((r) => ({ seed: r.seed, gain: lateGain(r) })).filter((x): x is { seed: number; gain: number } => x.gain !== null);
    if (!gains.length) return `- ${g}: too few validations to tell whether it converged.`;
    const verdict = stillRising(G) ? '**still rising: undertrained**' : 'converged';
    // The sign of the rounded figure, so that a gain of −0.001 points reads 0.00, not −0.00.
    const signed = (x: number) => { const r = (100 * x).toFixed(2); return Number(r) === 0 ? '0.00' : `${Number(r) > 0 ? '+' : '−'}${r.replace('-', '')}`; };
    return `- ${g}: ${verdict} (${gains.map((x) => signed(x.gain)).join(', ')} points at seed${gains.length > 1 ? 's' : ''} ${gains.map((x) => x.seed).join(', ')}).`;
  });
  return [`Convergence, from the validation curves: the best validation Dice over the last 20 % of a run minus the best before it ` +
          `(converged: under +${PLATEAU_POINTS} point).`, '', ...lines, ''];
}

interface Metrics { dice: number; jaccard: number; hd95: number; asd: number }
interface Evaluation { cases: (Metrics & { id: string })[]; mean: Metrics; downsample?: number }
export interface CrossCheck { run: string; folder: string; label: string }

/** The second implementation's validation curve, from its log. */
export function crossCheckCurve(plan: Plan, x: CrossCheck): { iteration: number; dice: number }[] {
  const log = join(plan.dir, x.folder, 'log.jsonl');
  if (!existsSync(log)) return [];
  return readFileSync(log, 'utf8').split('\n').filter((l) => l.includes('"validation"')).map((l) => JSON.parse(l))
    .map((r) => ({ iteration: r.iteration, dice: r.dice }));
}

function trainMinutes(plan: Plan, x: CrossCheck): number | null {
  const log = join(plan.dir, x.folder, 'log.jsonl');
  if (!existsSync(log)) return null;
  const seconds = readFileSync(log, 'utf8').split('\n').filter((l) => l.includes('"iteration"') && l.includes('"seconds"'))
    .map((l) => JSON.parse(l).seconds as number);
  if (!seconds.length) return null;
  // a log written by an older script restarts its clock at each resume: each stretch adds its last reading
  const stretches = seconds.filter((s, i) => i + 1 === seconds.length || seconds[i + 1] < s);
  return stretches.reduce((a, s) => a + s, 0) / 60;
}

export function crossCheckSection(plan: Plan, section: RunResults[], checks: CrossCheck[]): string[] {
  const out: string[] = [];
  for (const x of checks) {
    const ours = section.find((r) => r.name === x.run);
    const file = join(plan.dir, x.folder, 'evaluation.json');
    if (!ours) continue;
    if (!existsSync(file)) {
      out.push(`*Cross-check of ${x.run} with ${x.label}: not scored yet (${x.folder}/evaluation.json is missing).*`, '');
      continue;
    }
    const theirs = JSON.parse(readFileSync(file, 'utf8')) as Evaluation;
    const ids = caseIds(ours);
    const byId = new Map(theirs.cases.map((c) => [c.id, c]));
    if (ids.some((id) => !byId.has(id))) throw new Error(`${file}: not scored on the cases of ${x.run}`);
    const s = pairedStats(ids.map((id) => ours.validation.perCase.find((c) => c.id === id)!.dice), ids.map((id) => byId.get(id)!.dice));
    const seeds = section.filter((r) => r.group === ours.group);
    const noise = std(seeds.map((r) => r.validation.mean.dice));
    const minutes = trainMinutes(plan, x);
    const row = (name: string, m: Metrics, mins: number | null) =>
      `| ${name} | ${(100 * m.dice).toFixed(2)} | ${(100 * m.jaccard).toFixed(2)} | ${m.hd95.toFixed(2)} | ${m.asd.toFixed(2)} | ${mins === null ? '—' : mins.toFixed(1)} |`;
    out.push(`### Cross-check: ${x.run} trained again by ${x.label}`, '',
      `The same config, split, crops, schedule and seed number, trained by a second implementation (its own random draws and initial ` +
      `weights), its final model scored by \`voxgrad evaluate\` on the same ${ids.length} cases (${x.folder}/evaluation.json).`, '',
      '| trained by | Dice (%) | Jaccard (%) | 95HD (vox) | ASD (vox) | training (min) |', '|---|---|---|---|---|---|',
      row(`voxgrad (${ours.backend}, ${ours.threads} threads)`, ours.validation.mean, ours.trainSeconds / 60),
      row(x.label, theirs.mean, minutes), '',
      '| pairing | mean Δ Dice (voxgrad − other) | voxgrad better / worse / tied | sign test p | Wilcoxon p |', '|---|---|---|---|---|',
      `| by case | ${pairedCells(s).join(' | ')} |`, '',
      Number.isNaN(noise)
        ? `Seed noise of ${ours.group} is not known yet (one seed): the difference of ${(100 * Math.abs(s.delta)).toFixed(2)} points stands beside the paired tests alone.`
        : `${ours.group}'s Dice varies by ${(100 * noise).toFixed(2)} points over seeds ${seeds.map((r) => r.seed).join(', ')} (${pm(seeds.map((r) => r.validation.mean.dice), 100, 2)}); ` +
          `the two implementations differ by ${(100 * Math.abs(s.delta)).toFixed(2)} points: ${Math.abs(s.delta) <= 2 * noise ? 'within' : 'beyond'} twice the seed noise.`,
      '');
  }
  return out;
}
