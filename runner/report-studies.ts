// The report's two studies within a dataset: Dice against the number of labelled cases (one line per
// method, seeds as bands, each line paired case by case with the first at every count) and the
// ablations (each variant's config difference from the reference and its paired per-case change).
import { join } from 'node:path';
import { writeFileSync } from 'node:fs';
import { caseDice, caseIds, commonSeeds, pairGroups, pairedStats } from './paired.ts';
import type { Plan } from './plan.ts';
import { labelRateFigureSvg, type RateLine } from './report-figures.ts';
import { fmtP, METHOD_LABEL, pairedCells, pm } from './report-format.ts';
import type { RunResults } from './run.ts';
import { std } from './stats.ts';

const SIGNIFICANT = 0.05;

/** Finished groups of one label-rate line, by labelled count. */
function rateLine(groups: string[], ds: RunResults[]): { method: string; points: { labelled: number; runs: RunResults[] }[] } | null {
  const points = groups.map((g) => ds.filter((r) => r.group === g)).filter((G) => G.length)
    .map((runs) => ({ labelled: runs[0].config.data.labeled, runs })).sort((a, b) => a.labelled - b.labelled);
  return points.length ? { method: points[0].runs[0].method, points } : null;
}

export function labelRateSection(plan: Plan, ds: RunResults[], title: string, figure: string, figureLink: string): string[] {
  const lines = plan.labelRates.map((l) => rateLine(l, ds)).filter((l) => l !== null);
  if (!lines.length) return [];
  const [base, ...others] = lines;
  const counts = [...new Set(lines.flatMap((l) => l.points.map((p) => p.labelled)))].sort((a, b) => a - b);
  const label = (m: string) => METHOD_LABEL[m] ?? m;
  const at = (l: (typeof lines)[number], n: number) => l.points.find((p) => p.labelled === n)?.runs;
  const dice = (G: RunResults[]) => G.map((r) => r.validation.mean.dice);
  const out = [
    `### ${title}: Dice against the number of labelled cases`, '',
    `Validation Dice (%), mean ± std over seeds (seeds in brackets); every count uses the same unlabelled pool, validation list, ` +
    `iterations, crops and filters. Δ pairs each validation case's Dice averaged over the seeds both runs finished, ` +
    `${others.map((o) => label(o.method)).join(', ')} − ${label(base.method)}, in points, with the sign test and the Wilcoxon signed-rank test (two-sided).`, '',
    `| labelled | ${lines.map((l) => label(l.method)).join(' | ')} | ${others.map((o) => `Δ ${label(o.method)} | better / worse / tied | sign p | Wilcoxon p`).join(' | ')} |`,
    `|---|${lines.map(() => '---|').join('')}${others.map(() => '---|---|---|---|').join('')}`,
  ];
  const findings: string[] = [];
  for (const n of counts) {
    const cells = lines.map((l) => { const G = at(l, n); return G ? `${pm(dice(G), 100, 2)} (${G.map((r) => r.seed).join(', ')})` : '—'; });
    for (const o of others) {
      const A = at(o, n), B = at(base, n), s = A && B ? pairGroups(A, B) : null;
      cells.push(...(s ? pairedCells(s) : ['—', '—', '—', '—']));
      if (s) {
        const verdict = s.delta > 0 && s.wilcoxonP < SIGNIFICANT ? 'helps' : s.delta < 0 && s.wilcoxonP < SIGNIFICANT ? 'hurts' : 'makes no significant difference';
        findings.push(`with ${n} labelled, ${label(o.method)} ${verdict}: ${Math.abs(100 * s.delta).toFixed(2)} points ${s.delta >= 0 ? 'above' : 'below'} ` +
          `${label(base.method)} per case (better on ${s.better} of ${s.cases} cases, Wilcoxon p = ${fmtP(s.wilcoxonP)}, ${s.seeds.length} seed(s))`);
      }
    }
    out.push(`| ${n} | ${cells.join(' | ')} |`);
  }
  const series: RateLine[] = lines.map((l) => ({ name: label(l.method), points: l.points.map((p) => ({ labelled: p.labelled, dice: dice(p.runs) })) }));
  writeFileSync(figure, labelRateFigureSvg(title, series));
  out.push('', `![Validation Dice against the number of labelled cases, the band spanning the seeds](${figureLink})`, '');
  if (findings.length) {
    out.push(`**When semi-supervision pays here**, from the table only (significant: Wilcoxon p < ${SIGNIFICANT}): ${findings.join('; ')}.`, '');
  }
  return out;
}

type Flat = Record<string, string>;
function flatten(v: unknown, prefix: string, out: Flat): Flat {
  if (v && typeof v === 'object' && !Array.isArray(v)) for (const [k, x] of Object.entries(v)) flatten(x, prefix ? `${prefix}.${k}` : k, out);
  else out[prefix] = JSON.stringify(v);
  return out;
}

/** The config fields a variant changes, as `field: reference → variant`. */
export function configChange(reference: RunResults['config'], variant: RunResults['config']): string {
  const a = flatten({ ...reference, name: null, seed: null }, '', {}), b = flatten({ ...variant, name: null, seed: null }, '', {});
  const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])].filter((k) => a[k] !== b[k]);
  return keys.length ? keys.map((k) => `\`${k}\`: ${a[k] ?? '—'} → ${b[k] ?? '—'}`).join(', ') : 'nothing';
}

export function ablationSection(plan: Plan, ds: RunResults[]): string[] {
  const ab = plan.ablations;
  if (!ab) return [];
  const R = ds.filter((r) => r.group === ab.reference);
  const variants = ab.groups.map((g) => ds.filter((r) => r.group === g)).filter((G) => G.length);
  if (!R.length || !variants.length) return [];
  const variantName = (g: string) => (g.startsWith(`${ab.reference}-`) ? g.slice(ab.reference.length + 1) : g);
  const noise = std(R.map((r) => r.validation.mean.dice));
  const out = [
    `### Ablations of ${ab.reference}`, '',
    `Each row changes the listed config fields of ${ab.reference} and nothing else. Δ pairs each validation case with the reference ` +
    `at the same seed (averaged over the seeds both finished), variant − reference, in points. Seed noise: the reference's Dice varies by ` +
    (Number.isNaN(noise) ? `an unknown amount (one seed so far).` : `${(100 * noise).toFixed(2)} points (sample std over seeds ${R.map((r) => r.seed).join(', ')}); ` +
      `a variant whose |Δ| is below that is within seed noise at one seed.`), '',
    '| variant | change | seeds | Dice (%) | Δ Dice | better / worse / tied | sign p | Wilcoxon p | beyond seed noise |', '|---|---|---|---|---|---|---|---|---|',
    `| ${ab.reference} (reference) | — | ${R.map((r) => r.seed).join(', ')} | ${pm(R.map((r) => r.validation.mean.dice), 100, 2)} | | | | | |`,
  ];
  const ids = caseIds(R[0]);
  for (const V of variants) {
    const seeds = commonSeeds(V, R);
    const s = seeds.length ? pairedStats(caseDice(V, seeds, ids), caseDice(R, seeds, ids)) : null;
    const beyond = !s || Number.isNaN(noise) ? '—' : Math.abs(s.delta) > noise ? 'yes' : 'no';
    out.push(`| ${variantName(V[0].group)} | ${configChange(R[0].config, V[0].config)} | ${V.map((r) => r.seed).join(', ')} | ` +
      `${pm(V.map((r) => r.validation.mean.dice), 100, 2)} | ${(s ? pairedCells(s) : ['—', '—', '—', '—']).join(' | ')} | ${beyond} |`);
  }
  out.push('', ...identicalVariants(variants, ids, variantName));
  return out;
}

/** Variants whose every case scored the same at every seed both ran: their changes acted alike on this data. */
function identicalVariants(variants: RunResults[][], ids: string[], name: (g: string) => string): string[] {
  const out: string[] = [];
  variants.forEach((A, i) => variants.slice(i + 1).forEach((B) => {
    const seeds = commonSeeds(A, B);
    if (seeds.length && seeds.every((s) => caseDice(A, [s], ids).every((d, k) => d === caseDice(B, [s], ids)[k]))) {
      out.push(`**${name(A[0].group)} and ${name(B[0].group)} scored identically** on every validation case at seed(s) ${seeds.join(', ')}: ` +
        `on this data their changes train the same model.`, '');
    }
  }));
  return out;
}

export const labelRateFigure = (dir: string, dataset: string) => join(dir, `${dataset}-label-rates.svg`);
