// The results report's label-rate and ablation sections on made-up results: every cell is recomputed
// here from the per-case Dice (pairing by seed, averaging over common seeds), the ablation names the
// one config field it changes, and the label-rate picture draws a line per method with a seed band.
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { Plan } from '../runner/plan.ts';
import { ablationSection, configChange, labelRateSection } from '../runner/report-studies.ts';
import type { RunResults } from '../runner/run.ts';
import { signTestP, std, wilcoxon } from '../runner/stats.ts';

const CASES = 12;
/** Deterministic per-case Dice around `level`. */
const dice = (level: number, salt: number) => Array.from({ length: CASES }, (_, i) => level + 0.03 * Math.sin(7.1 * i + 3.3 * salt));

function run(group: string, method: string, labeled: number, seed: number, level: number, extra: Record<string, unknown> = {}): RunResults {
  const perCase = dice(level, seed + group.length).map((d, i) => ({ id: `case${i}`, dice: d }));
  const m = perCase.reduce((s, c) => s + c.dice, 0) / CASES;
  return {
    name: `${group}-s${seed}`, group, method, seed, validation: { perCase, mean: { dice: m } }, curve: [{ iteration: 10, dice: m }],
    config: { name: group, method, seed, data: { labeled, train: 't.list' }, ugmcl: { mask: true, beta: 0.75 }, ...extra },
  } as unknown as RunResults;
}

const ds = [
  ...[0, 1, 2].map((s) => run('h-sup-l4', 'supervised', 4, s, 0.70)),
  ...[0, 1, 2].map((s) => run('h-ug-l4', 'ugmcl', 4, s, 0.76)),
  ...[0, 1].map((s) => run('h-sup', 'supervised', 16, s, 0.80)),
  ...[0, 1].map((s) => run('h-ug', 'ugmcl', 16, s, 0.80)),
  run('h-ug-l4-nomask', 'ugmcl', 4, 0, 0.74, { ugmcl: { mask: false, beta: 0.75 } }),
];
const plan = { labelRates: [['h-sup-l4', 'h-sup'], ['h-ug-l4', 'h-ug']], ablations: { reference: 'h-ug-l4', groups: ['h-ug-l4-nomask', 'h-ug-l4-beta1'] } } as unknown as Plan;
const dir = mkdtempSync(join(tmpdir(), 'voxgrad-studies-'));
const fmt = (p: number) => (p < 0.001 ? p.toExponential(1) : p.toFixed(3));
const byId = (r: RunResults) => r.validation.perCase.map((c) => c.dice);
const avg = (rs: RunResults[]) => byId(rs[0]).map((_, i) => rs.reduce((s, r) => s + byId(r)[i], 0) / rs.length);

function cells(a: number[], b: number[]) {
  const d = a.map((v, i) => v - b[i]);
  const better = d.filter((v) => v > 0).length, worse = d.filter((v) => v < 0).length;
  return `${(100 * d.reduce((s, v) => s + v, 0) / d.length).toFixed(2)} | ${better} / ${worse} / ${d.length - better - worse} | ` +
         `${fmt(signTestP(better, better + worse))} | ${fmt(wilcoxon(d).p)}`;
}

test('the label-rate table pairs the methods case by case over their common seeds at each count', () => {
  const md = labelRateSection(plan, ds, 'H', join(dir, 'rates.svg'), 'rates.svg').join('\n');
  const g = (name: string) => ds.filter((r) => r.group === name);
  assert.match(md, `| 4 | ${(100 * g('h-sup-l4').reduce((s, r) => s + r.validation.mean.dice, 0) / 3).toFixed(2)} ± `);
  assert.match(md, `(0, 1, 2) | ${cells(avg(g('h-ug-l4')), avg(g('h-sup-l4')))}`);
  assert.match(md, `| 16 | `);
  assert.match(md, cells(avg(g('h-ug')), avg(g('h-sup'))));
  const a = avg(g('h-ug-l4')), b = avg(g('h-sup-l4'));
  const d = a.map((v, i) => v - b[i]), mean = d.reduce((s, v) => s + v, 0) / CASES;
  assert.ok(mean > 0 && wilcoxon(d).p < 0.05, 'the made-up data has UG-MCL clearly ahead at 4 labelled');
  assert.match(md, `with 4 labelled, UG-MCL helps: ${(100 * mean).toFixed(2)} points above Supervised (labelled only) per case ` +
                   `(better on ${d.filter((v) => v > 0).length} of ${CASES} cases, Wilcoxon p = ${fmt(wilcoxon(d).p)}, 3 seed(s))`);
  const svg = readFileSync(join(dir, 'rates.svg'), 'utf8');
  assert.is(svg.match(/class="series"/g)?.length, 2, 'a line per method');
  assert.is(svg.match(/class="band"/g)?.length, 2, 'a seed band per method');
  assert.match(svg, 'labelled training cases');
});

test('the ablation table names the changed field, pairs with the reference at the same seed and judges seed noise', () => {
  const md = ablationSection(plan, ds).join('\n');
  const ref = ds.filter((r) => r.group === 'h-ug-l4'), v = ds.find((r) => r.group === 'h-ug-l4-nomask')!;
  assert.match(md, '| nomask | `ugmcl.mask`: true → false | 0 |');
  assert.match(md, cells(byId(v), byId(ref[0])));
  const noise = std(ref.map((r) => r.validation.mean.dice));
  assert.match(md, `${(100 * noise).toFixed(2)} points`);
  const delta = byId(v).reduce((s, x, i) => s + x - byId(ref[0])[i], 0) / CASES;
  assert.ok(md.trim().endsWith(Math.abs(delta) > noise ? '| yes |' : '| no |'));
  assert.not.match(md, 'beta1', 'a variant with no results yet gets no row');
});

test('two variants that scored the same on every case are named as identical, and only they', () => {
  const twin = { ...ds.find((r) => r.group === 'h-ug-l4-nomask')!, group: 'h-ug-l4-fixedthr', name: 'h-ug-l4-fixedthr-s0' };
  const other = run('h-ug-l4-beta1', 'ugmcl', 4, 0, 0.74, { ugmcl: { mask: true, beta: 1 } });
  const p = { ...plan, ablations: { reference: 'h-ug-l4', groups: ['h-ug-l4-nomask', 'h-ug-l4-fixedthr', 'h-ug-l4-beta1'] } } as Plan;
  const md = ablationSection(p, [...ds, twin as RunResults, other]).join('\n');
  assert.match(md, '**nomask and fixedthr scored identically** on every validation case at seed(s) 0');
  assert.is(md.match(/scored identically/g)?.length, 1, 'beta1 differs from both');
});

test('configChange lists every changed leaf and nothing else', () => {
  const a = { name: 'a', seed: 0, ugmcl: { beta: 0.75, variant: 'paper' }, patch: [32, 48, 32] };
  const b = { name: 'b', seed: 3, ugmcl: { beta: 1, variant: 'paper' }, patch: [32, 48, 32] };
  assert.is(configChange(a as never, b as never), '`ugmcl.beta`: 0.75 → 1');
  assert.is(configChange(a as never, a as never), 'nothing');
});

test.run();
