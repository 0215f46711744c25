// The report's statistics against SciPy (test/fixtures/make_stats.py): mean, sample std, the sign
// test and the Wilcoxon signed-rank test, exact and tie-corrected normal, on paired Dice differences.
import { readFileSync } from 'node:fs';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mean, signTestP, std, wilcoxon } from '../runner/stats.ts';
import { repoRoot } from './helpers/fixtures.ts';

interface Case {
  differences: number[];
  wilcoxon: { statistic: number; p: number; method: 'exact' | 'approx' };
  sign: { k: number; n: number; p: number };
  mean: number;
  std: number;
}
const { cases } = JSON.parse(readFileSync(`${repoRoot}test/fixtures/stats.json`, 'utf8')) as { cases: Case[] };
const close = (a: number, b: number, tol: number, what: string) => assert.ok(Math.abs(a - b) <= tol * Math.abs(b), `${what}: ${a} vs ${b}`);

for (const [i, c] of cases.entries()) {
  test(`case ${i} (${c.differences.length} differences, ${c.wilcoxon.method}) equals SciPy`, () => {
    close(mean(c.differences), c.mean, 1e-12, 'mean');
    close(std(c.differences), c.std, 1e-12, 'std');
    const w = wilcoxon(c.differences);
    assert.is(w.method, c.wilcoxon.method);
    assert.is(w.statistic, c.wilcoxon.statistic);
    close(w.p, c.wilcoxon.p, 1e-9, 'Wilcoxon p');
    const k = c.differences.filter((d) => d > 0).length, n = c.differences.filter((d) => d !== 0).length;
    assert.equal([k, n], [c.sign.k, c.sign.n]);
    close(signTestP(k, n), c.sign.p, 1e-12, 'sign-test p');
  });
}

test('degenerate inputs: one value has no std; all-zero differences give p = 1', () => {
  assert.ok(Number.isNaN(std([0.5])));
  assert.is(wilcoxon([0, 0, 0]).p, 1);
  assert.is(signTestP(0, 0), 1);
  assert.is(signTestP(5, 10), 1);
});

test.run();
