// The built CLI (dist/cli.js, made by `npm run build` before the tests): metrics against the
// scipy reference, usage and errors.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { repoRoot } from './helpers/fixtures.ts';

const cli = (...args: string[]) => spawnSync(process.execPath, [`${repoRoot}dist/cli.js`, ...args], { cwd: repoRoot, encoding: 'utf8' });
const fx = JSON.parse(readFileSync(`${repoRoot}test/fixtures/metrics.json`, 'utf8'));

for (const c of fx.cli) {
  test(`metrics ${c.spacing ? `--spacing ${c.spacing}` : 'in voxels'} matches scipy`, () => {
    const r = cli('metrics', '--pred', c.pred, '--label', c.label, ...(c.spacing ? ['--spacing', c.spacing.join(',')] : []));
    assert.is(r.status, 0, r.stderr);
    const lines = r.stdout.trim().split('\n');
    assert.is(lines.length, 1, 'one JSON line');
    const got = JSON.parse(lines[0]);
    assert.equal(Object.keys(got), ['dice', 'jaccard', 'hd95', 'asd', 'assd']);
    for (const k of ['dice', 'jaccard']) assert.ok(Math.abs(got[k] - c[k]) <= 1e-6, `${k} ${got[k]} vs ${c[k]}`);
    for (const k of ['hd95', 'asd', 'assd']) assert.ok(Math.abs(got[k] - c[k]) <= 1e-4, `${k} ${got[k]} vs ${c[k]}`);
  });
}

test('usage, unknown command, and errors that name the files', () => {
  const none = cli();
  assert.is(none.status, 0);
  assert.match(none.stderr, 'usage: voxgrad <command>');
  const unknown = cli('fit');
  assert.is(unknown.status, 2);
  assert.match(unknown.stderr, 'unknown command "fit"');
  const a = 'data/hippocampus/labels/hippocampus_001.nii.gz', b = 'data/hippocampus/labels/hippocampus_003.nii.gz';
  const mismatch = cli('metrics', '--pred', a, '--label', b);
  assert.is(mismatch.status, 1);
  assert.match(mismatch.stderr, `${a} is 35×51×35 but ${b} is 34×52×35`);
  const missing = cli('metrics', '--pred', 'nope.nii.gz', '--label', a);
  assert.is(missing.status, 1);
  assert.match(missing.stderr, 'nope.nii.gz: no such file');
  assert.match(cli('metrics', '--pred', a).stderr, '--pred and --label are required');
  assert.match(cli('metrics', '--pred', a, '--label', a, '--spacing', '1,2').stderr, 'expected three positive numbers');
});

test.run();
