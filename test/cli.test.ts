// The built CLI (dist/cli.js, made by `npm run build` before the tests): metrics against the
// scipy reference, usage and errors.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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
  assert.match(none.stderr, 'voxgrad <command> --help');
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
  const incomplete = cli('metrics', '--pred', a);
  assert.is(incomplete.status, 2);
  assert.match(incomplete.stderr, '--pred and --label are required');
  assert.match(incomplete.stderr, 'usage: voxgrad metrics');
  assert.match(cli('metrics', '--pred', a, '--label', a, '--spacing', '1,2').stderr, 'expected three positive numbers');
});

const commands = ['demo', 'train', 'predict', 'evaluate', 'metrics', 'experiments', 'serve'];

test('--help and --version answer, on stdout, exit 0', () => {
  for (const flag of ['--help', '-h']) {
    const r = cli(flag);
    assert.is(r.status, 0, r.stderr);
    for (const c of commands) assert.match(r.stdout, new RegExp(`\\n  ${c} +\\S`), `${flag} lists ${c}`);
  }
  const v = cli('--version');
  assert.is(v.status, 0);
  assert.is(v.stdout.trim(), JSON.parse(readFileSync(`${repoRoot}package.json`, 'utf8')).version);
});

for (const c of commands) {
  test(`voxgrad ${c} --help and -h print its usage and exit 0; an unknown option names itself, exit 2`, () => {
    for (const flag of ['--help', '-h']) {
      const r = cli(c, flag);
      assert.is(r.status, 0, r.stderr);
      assert.ok(r.stdout.startsWith(`usage: voxgrad ${c}`), r.stdout.slice(0, 80));
    }
    const bad = cli(c, '--no-such-flag');
    assert.is(bad.status, 2);
    assert.match(bad.stderr, `voxgrad ${c}: unknown option '--no-such-flag'`);
    assert.match(bad.stderr, `usage: voxgrad ${c}`);
  });
}

test('predict --help lists the shipped models; --model NAME takes one, an unknown name lists them', () => {
  const shipped = readdirSync(`${repoRoot}models`).filter((f) => f.endsWith('.safetensors')).map((f) => f.replace(/\.safetensors$/, ''));
  assert.ok(shipped.length > 0);
  const help = cli('predict', '--help').stdout;
  for (const m of shipped) assert.match(help, m);
  const out = mkdtempSync(join(tmpdir(), 'voxgrad-model-'));
  const model = shipped.find((m) => m.startsWith('hippocampus'))!;
  const r = cli('predict', '--model', model, '--input', 'data/hippocampus/images/hippocampus_001.nii.gz', '--out', out, '--backend', 'wasm');
  assert.is(r.status, 0, r.stderr);
  assert.ok(existsSync(join(out, 'hippocampus_001.nii.gz')));
  const unknown = cli('predict', '--model', 'nope', '--input', 'x', '--out', out);
  assert.is(unknown.status, 2);
  assert.match(unknown.stderr, `--model nope: no shipped model has that name (shipped: ${shipped.join(', ')})`);
  const both = cli('predict', '--model', model, '--checkpoint', 'x.safetensors', '--input', 'x', '--out', out);
  assert.is(both.status, 2);
  assert.match(both.stderr, 'give one');
});

test.run();
