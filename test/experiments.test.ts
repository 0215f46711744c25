// The experiment runner end to end through the built CLI: a tiny plan on the bundled hippocampus
// cases writes its results, log and shipped model; the results equal `voxgrad evaluate` of that
// model; a finished run is not run again; a run killed mid-training resumes to the same results;
// a bad plan is refused with the file and the field named.
import { spawn, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { repoRoot } from './helpers/fixtures.ts';
import { signTestP, wilcoxon } from '../runner/stats.ts';

const dir = mkdtempSync(join(tmpdir(), 'voxgrad-experiments-'));
const data = `${repoRoot}data/hippocampus`;
const ids = readFileSync(`${data}/train.list`, 'utf8').trim().split('\n');
writeFileSync(join(dir, 'train.list'), ids.slice(0, 8).join('\n'));
writeFileSync(join(dir, 'val.list'), readFileSync(`${data}/eval.list`, 'utf8').trim().split('\n').slice(0, 2).join('\n'));
writeFileSync(join(dir, 'tiny.json'), JSON.stringify({
  name: 'tiny', method: 'ugmcl', model: { nFilters: 4 }, patch: [32, 48, 32], iterations: 8,
  validation: { every: 4, stride: [16, 16, 16] }, checkpoint: { every: 2 },
  data: { root: data, train: 'train.list', labeled: 4, validation: 'val.list', foreground: 'nonzero' },
}));

writeFileSync(join(dir, 'tiny-sup.json'), JSON.stringify({ extends: 'tiny.json', name: 'tiny-sup', method: 'supervised' }));

/** A plan folder of its own under dir, naming ../tiny.json. */
function plan(name: string, fields: Record<string, unknown> = {}): string {
  mkdirSync(join(dir, name), { recursive: true });
  const path = join(dir, name, 'plan.json');
  copyFileSync(`${repoRoot}experiments/paper-table3.json`, join(dir, name, 'paper.json'));
  writeFileSync(path, JSON.stringify({ backend: 'wasm', threads: 2, report: 'RESULTS.md', paper: 'paper.json',
                                       runs: [{ config: '../tiny.json', seeds: [0], ship: 'models/tiny.safetensors' }], ...fields }));
  return path;
}

const cli = (...args: string[]) => spawnSync(process.execPath, [`${repoRoot}dist/cli.js`, ...args], { cwd: dir, encoding: 'utf8' });
const results = (p: string) => JSON.parse(readFileSync(join(p, '..', 'results', 'tiny-s0.json'), 'utf8'));

const whole = plan('whole');

test('a planned run writes its results, log and shipped model, and is not run twice', () => {
  const r = cli('experiments', '--plan', whole);
  assert.is(r.status, 0, r.stderr);
  const res = results(whole);
  assert.is(res.name, 'tiny-s0');
  assert.is(res.seed, 0);
  assert.is(res.config.seed, 0, 'the plan\'s seed replaces the config\'s');
  assert.is(res.iterations, 8);
  assert.is(res.validation.perCase.length, 2);
  assert.equal(res.curve.map((c: { iteration: number }) => c.iteration), [4, 8]);
  assert.ok(res.trainSeconds > 0 && res.threads === 2 && res.backend === 'wasm');
  assert.is(readFileSync(join(whole, '..', res.log), 'utf8').trim().split('\n').filter((l) => l.includes('"iteration"')).length, 10);
  assert.ok(existsSync(join(whole, '..', 'models', 'tiny.safetensors')) && existsSync(join(whole, '..', 'models', 'tiny.config.json')));
  assert.ok(!existsSync(join(whole, '..', 'unfinished', 'tiny-s0')), 'the unfinished folder is gone');
  const again = cli('experiments', '--plan', whole);
  assert.is(again.status, 0, again.stderr);
  assert.match(again.stdout, '0 of 1 run(s) to do');
  assert.match(cli('experiments', '--plan', whole, '--list').stdout, /tiny-s0\s+done/);
});

test('the results equal voxgrad evaluate of the shipped model on the validation list', () => {
  const res = results(whole);
  const ev = cli('evaluate', '--checkpoint', join(whole, '..', 'models', 'tiny.safetensors'), '--data', data,
                 '--list', join(dir, 'val.list'), '--out', join(dir, 'ev'), '--backend', 'wasm');
  assert.is(ev.status, 0, ev.stderr);
  const report = JSON.parse(readFileSync(join(dir, 'ev', 'evaluation.json'), 'utf8'));
  assert.equal(report.cases, res.validation.perCase);
  assert.equal(report.mean, res.validation.mean);
});

test('a run killed with SIGKILL resumes from its unfinished checkpoint to the same results', async () => {
  const killed = plan('killed');
  const work = join(killed, '..', 'unfinished', 'tiny-s0');
  // its own process group, so that the kill takes the runner and its run's process, as a session's end does
  const child = spawn(process.execPath, [`${repoRoot}dist/cli.js`, 'experiments', '--plan', killed], { cwd: dir, stdio: 'ignore', detached: true });
  const kill = () => process.kill(-child.pid!, 'SIGKILL');
  await new Promise<void>((done, fail) => {
    const started = Date.now();
    const poll = setInterval(() => {
      const log = existsSync(join(work, 'log.jsonl')) ? readFileSync(join(work, 'log.jsonl'), 'utf8') : '';
      if (log.includes('"iteration":4,')) { clearInterval(poll); kill(); }
      else if (Date.now() - started > 90000) { clearInterval(poll); kill(); fail(new Error('no iteration 4 in 90 s')); }
    }, 20);
    child.on('exit', () => { clearInterval(poll); setTimeout(done, 200); });
  });
  assert.ok(existsSync(join(work, 'checkpoint.safetensors')), 'killed with a checkpoint left');
  assert.match(cli('experiments', '--plan', killed, '--list').stdout, /tiny-s0\s+unfinished/);
  const r = cli('experiments', '--plan', killed);
  assert.is(r.status, 0, r.stderr);
  assert.match(r.stdout + r.stderr, 'resumed from');
  const a = results(whole), b = results(killed);
  assert.equal(b.validation, a.validation);
  assert.equal(b.curve, a.curve);
  assert.ok(readFileSync(join(whole, '..', 'models', 'tiny.safetensors')).equals(readFileSync(join(killed, '..', 'models', 'tiny.safetensors'))));
});

test('the report shows each method\'s results and the paired comparison computed from the results files', () => {
  const paired = plan('paired', { runs: [{ config: '../tiny.json', seeds: [0] }, { config: '../tiny-sup.json', seeds: [0] }],
                                 compare: [['tiny', 'tiny-sup']] });
  const r = cli('experiments', '--plan', paired);
  assert.is(r.status, 0, r.stderr);
  const md = readFileSync(join(dir, 'paired', 'RESULTS.md'), 'utf8');
  const read = (n: string) => JSON.parse(readFileSync(join(dir, 'paired', 'results', `${n}-s0.json`), 'utf8'));
  const a = read('tiny'), b = read('tiny-sup');
  assert.match(md, `| UG-MCL | tiny | 4 / 4 | 0 | ${(100 * a.validation.mean.dice).toFixed(2)} | ${(100 * a.validation.mean.jaccard).toFixed(2)} |`);
  assert.match(md, `| Supervised (labelled only) | tiny-sup | 4 / 0 | 0 | ${(100 * b.validation.mean.dice).toFixed(2)} |`);
  const d = a.validation.perCase.map((c: { dice: number }, i: number) => c.dice - b.validation.perCase[i].dice);
  const better = d.filter((v: number) => v > 0).length, worse = d.filter((v: number) => v < 0).length;
  const fmt = (p: number) => (p < 0.001 ? p.toExponential(1) : p.toFixed(3));
  const delta = (100 * d.reduce((s: number, v: number) => s + v, 0) / d.length).toFixed(2);
  assert.match(md, `| seed 0 | ${delta} | ${better} / ${worse} / ${d.length - better - worse} | ${fmt(signTestP(better, better + worse))} | ${fmt(wilcoxon(d).p)}`);
  assert.match(md, /\*\*tiny's mean Dice is (higher|lower|equal) than tiny-sup's\*\*/);
  const svg = readFileSync(join(dir, 'paired', 'results', 'hippocampus.svg'), 'utf8');
  assert.match(svg, 'data-series="tiny-sup"');
  assert.match(svg, 'uncertainty mask keeps');
  assert.match(md, '| UG-MCL (16/64) | 90.16 | 82.18 | 6.50 | 1.98 | ' + (100 * a.validation.mean.dice).toFixed(2) + ' |');
});

const bad: [string, Record<string, unknown>, RegExp][] = [
  ['no runs', { runs: [] }, /plan\.json: "runs" must be a non-empty array/],
  ['bad seeds', { runs: [{ config: '../tiny.json', seeds: [-1] }] }, /"runs\[0\]\.seeds" must be a non-empty array of non-negative integers/],
  ['repeated run', { runs: [{ config: '../tiny.json', seeds: [0, 0] }] }, /"runs\[0\]\.seeds" repeats the run tiny-s0/],
  ['missing config', { runs: [{ config: '../nope.json', seeds: [0] }] }, /nope\.json: cannot read the config/],
  ['unknown comparison', { compare: [['tiny', 'other']] }, /"compare" must be pairs of planned config names \(tiny\)/],
  ['unknown label-rate group', { labelRates: [['tiny', 'other']] }, /"labelRates" must be lines \(arrays\) of planned config names \(tiny\)/],
  ['unknown ablation reference', { ablations: { reference: 'other', groups: ['tiny'] } }, /"ablations\.reference" must be a planned config name/],
  ['empty ablations', { ablations: { reference: 'tiny', groups: [] } }, /"ablations\.groups" must be a non-empty array/],
  ['misspelt field', { thread: 2 }, /"thread" is not a known field/],
  ['missing paper table', { paper: 'nope.json' }, /"paper" names .*nope\.json, which does not exist/],
];
for (const [what, fields, message] of bad) {
  test(`bad plan refused clearly: ${what}`, () => {
    const r = cli('experiments', '--plan', plan(`bad-${what.replace(/\W/g, '-')}`, fields));
    assert.is(r.status, 1);
    assert.match(r.stderr, message);
    assert.not.match(r.stderr, /\n\s+at /, 'no stack trace');
  });
}

test('--only names a run or a config; an unknown name lists the runs', () => {
  const r = cli('experiments', '--plan', whole, '--only', 'nothing');
  assert.is(r.status, 1);
  assert.match(r.stderr, 'no planned run is named "nothing" (runs: tiny-s0)');
  assert.match(cli('experiments', '--plan', whole, '--only', 'tiny', '--list').stdout, 'tiny-s0');
});

test.run();
