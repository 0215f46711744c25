// The results report's split of a dataset by training setting, its convergence verdicts and the
// cross-check against a second implementation, on made-up results: a run still rising over its last
// fifth is called undertrained and one that has levelled off converged; the cross-check's cells are
// recomputed here from the per-case Dice.
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { Plan } from '../runner/plan.ts';
import { convergenceLines, crossCheckCurve, crossCheckSection, lateGain, settings } from '../runner/report-settings.ts';
import type { RunResults } from '../runner/run.ts';
import { signTestP, wilcoxon } from '../runner/stats.ts';

const ids = ['a', 'b', 'c', 'd', 'e', 'f'];
function run(group: string, seed: number, curve: number[], perCase: number[], config: { downsample?: number; iterations: number }): RunResults {
  const every = config.iterations / curve.length;
  const cases = perCase.map((d, i) => ({ id: ids[i], dice: d, jaccard: d / (2 - d), hd95: 10 * (1 - d), asd: 3 * (1 - d) }));
  const mean = (k: 'dice' | 'jaccard' | 'hd95' | 'asd') => cases.reduce((s, c) => s + c[k], 0) / cases.length;
  return {
    name: `${group}-s${seed}`, group, seed, method: 'supervised', iterations: config.iterations, backend: 'wasm', threads: 2, trainSeconds: 600,
    curve: curve.map((dice, i) => ({ iteration: (i + 1) * every, dice })),
    validation: { perCase: cases, mean: { dice: mean('dice'), jaccard: mean('jaccard'), hd95: mean('hd95'), asd: mean('asd') } },
    config: { data: { root: 'la', downsample: config.downsample }, patch: [64, 64, 48], model: { nFilters: 8 }, iterations: config.iterations },
  } as unknown as RunResults;
}

const rising = run('la-crop64-supervised', 0, [0.1, 0.2, 0.3, 0.39, 0.48], [0.4, 0.5, 0.45, 0.55, 0.5, 0.48], { iterations: 1000 });
const flat = run('la-2x-supervised', 0, [0.5, 0.8, 0.85, 0.86, 0.862, 0.861, 0.86, 0.859, 0.86, 0.858],
                 [0.85, 0.9, 0.8, 0.88, 0.87, 0.86], { iterations: 3000, downsample: 2 });
const flat1 = run('la-2x-supervised', 1, [0.4, 0.7, 0.8, 0.84, 0.85, 0.85, 0.851, 0.85, 0.85, 0.85],
                  [0.83, 0.88, 0.81, 0.86, 0.85, 0.84], { iterations: 3000, downsample: 2 });

test('a dataset\'s runs split by setting: resolution, crops, filters and iterations', () => {
  const s = settings([rising, flat, flat1]);
  assert.equal(s.map((g) => g.map((r) => r.name)), [['la-crop64-supervised-s0'], ['la-2x-supervised-s0', 'la-2x-supervised-s1']]);
});

test('convergence: the best Dice of the last fifth against the best before it', () => {
  assert.ok(Math.abs(lateGain(rising)! - (0.48 - 0.39)) < 1e-12);
  assert.ok(Math.abs(lateGain(flat)! - (0.86 - 0.862)) < 1e-12);
  const lines = [...convergenceLines([rising]), ...convergenceLines([flat, flat1])].join('\n');
  assert.match(lines, '- la-crop64-supervised: **still rising: undertrained** (+9.00 points at seed 0).');
  assert.match(lines, '- la-2x-supervised: converged (−0.20, −0.10 points at seeds 0, 1).');
  const level = run('la-2x-ugmcl', 0, [0.5, 0.8, 0.83, 0.83, 0.83, 0.83, 0.83, 0.83, 0.82995, 0.8299], [0.8], { iterations: 3000, downsample: 2 });
  assert.match(convergenceLines([level]).join('\n'), '- la-2x-ugmcl: converged (0.00 points at seed 0).', 'a gain that rounds to zero has no sign');
});

test('the cross-check pairs the run with the other implementation\'s evaluation case by case', () => {
  const dir = mkdtempSync(join(tmpdir(), 'voxgrad-crosscheck-'));
  mkdirSync(join(dir, 'torch', 'x'), { recursive: true });
  const theirs = [0.84, 0.91, 0.78, 0.88, 0.88, 0.85];
  writeFileSync(join(dir, 'torch', 'x', 'evaluation.json'), JSON.stringify({
    cases: theirs.map((d, i) => ({ id: ids[i], dice: d, jaccard: 0.7, hd95: 4, asd: 1 })), mean: { dice: 0.8567, jaccard: 0.7, hd95: 4, asd: 1 },
  }));
  writeFileSync(join(dir, 'torch', 'x', 'log.jsonl'), [
    { kind: 'iteration', iteration: 2999, loss: 0.1, seconds: 1500 }, { kind: 'validation', iteration: 3000, dice: 0.85 },
  ].map((r) => JSON.stringify(r)).join('\n'));
  const plan = { dir } as unknown as Plan;
  const check = { run: 'la-2x-supervised-s0', folder: 'torch/x', label: 'PyTorch' };
  const md = crossCheckSection(plan, [flat, flat1], [check]).join('\n');
  const d = flat.validation.perCase.map((c, i) => c.dice - theirs[i]);
  const better = d.filter((v) => v > 0).length, worse = d.filter((v) => v < 0).length;
  const fmt = (p: number) => (p < 0.001 ? p.toExponential(1) : p.toFixed(3));
  assert.match(md, `| by case | ${(100 * d.reduce((s, v) => s + v, 0) / d.length).toFixed(2)} | ${better} / ${worse} / ${d.length - better - worse} | ` +
                   `${fmt(signTestP(better, better + worse))} | ${fmt(wilcoxon(d).p)}`);
  assert.match(md, '| PyTorch | 85.67 | 70.00 | 4.00 | 1.00 | 25.0 |');
  assert.match(md, /differ by \d+\.\d\d points: (within|beyond) twice the seed noise/);
  assert.equal(crossCheckCurve(plan, check), [{ iteration: 3000, dice: 0.85 }]);
  const missing = crossCheckSection(plan, [flat], [{ ...check, folder: 'torch/none' }]).join('\n');
  assert.match(missing, 'not scored yet (torch/none/evaluation.json is missing)');
});

test.run();
