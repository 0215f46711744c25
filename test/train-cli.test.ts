// `voxgrad train` end to end through the built CLI (dist/cli.js): short runs on the bundled
// hippocampus cases that learn, resume bit for bit, write their outputs; and every kind of bad
// input refused with one message naming the file and the problem, exit 1, no stack trace.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { decodeSafetensors } from '../nn/safetensors.ts';
import { repoRoot } from './helpers/fixtures.ts';

const dir = mkdtempSync(join(tmpdir(), 'voxgrad-train-'));
const data = `${repoRoot}data/hippocampus`;
const ids = readFileSync(`${data}/train.list`, 'utf8').trim().split('\n');
writeFileSync(join(dir, 'train.list'), ids.slice(0, 8).join('\n'));
writeFileSync(join(dir, 'val.list'), readFileSync(`${data}/eval.list`, 'utf8').trim().split('\n').slice(0, 2).join('\n'));

const cli = (...args: string[]) => spawnSync(process.execPath, [`${repoRoot}dist/cli.js`, ...args],
                                              { cwd: dir, encoding: 'utf8', env: { ...process.env, VOXGRAD_THREADS: '2' } });

function config(name: string, fields: Record<string, unknown>): string {
  const path = join(dir, `${name}.json`);
  writeFileSync(path, JSON.stringify({
    name, method: 'ugmcl', model: { nFilters: 4 }, patch: [16, 32, 16], iterations: 6, validation: { every: 3 }, checkpoint: { every: 3 },
    ...fields, data: { root: data, train: 'train.list', labeled: 4, validation: 'val.list', ...(fields.data as object) },
  }));
  return path;
}

const records = (out: string) => readFileSync(join(out, 'log.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));

test('supervised training on real cases lowers the loss and raises validation Dice', () => {
  const c = config('learns', { method: 'supervised', model: { nFilters: 8 }, patch: [32, 48, 32], iterations: 60,
                               validation: { every: 20, stride: [16, 16, 16] }, checkpoint: { every: 60 } });
  const out = join(dir, 'learns');
  const r = cli('train', '--config', c, '--backend', 'wasm', '--out', out);
  assert.is(r.status, 0, r.stderr);
  const log = records(out);
  const its = log.filter((x) => x.kind === 'iteration'), val = log.filter((x) => x.kind === 'validation');
  assert.is(its.length, 60);
  const meanLoss = (xs: any[]) => xs.reduce((s, x) => s + x.loss, 0) / xs.length;
  const first = meanLoss(its.slice(0, 10)), last = meanLoss(its.slice(-10));
  assert.ok(last < 0.7 * first, `loss ${first.toFixed(3)} → ${last.toFixed(3)}`);
  assert.equal(val.map((v) => v.iteration), [20, 40, 60]);
  assert.ok(val[2].dice > val[0].dice && val[2].dice > 0.3, `validation Dice ${val.map((v) => v.dice.toFixed(3))}`);
  for (const f of ['model.safetensors', 'checkpoint.safetensors', 'curves.svg']) assert.ok(existsSync(join(out, f)), f);
  assert.match(r.stdout, /last validation Dice 0\.\d{4}/);
  // a batch of 2 patches of 32×48×32 with 8 filters holds tens of MiB; far less would mean the meter is off
  const peaks = its.map((x) => x.peakBytes);
  assert.ok(peaks.every((p) => p > 20 * 1024 ** 2 && p < 2 * 1024 ** 3), `iteration peaks ${Math.min(...peaks)}–${Math.max(...peaks)} bytes`);
  assert.ok(val.every((v) => v.peakBytes > 0), 'validation peaks logged');
  assert.match(r.stderr + r.stdout, /peak memory of an iteration \d+\.\d\d GiB/);
});

test('data.downsample: training and validation read the cases at the lower resolution; the model records it', () => {
  const run = (name: string, data: object) => {
    const out = join(dir, name);
    const r = cli('train', '--config', config(name, { method: 'supervised', iterations: 2, validation: { every: 2 }, checkpoint: { every: 2 }, data }),
                  '--backend', 'wasm', '--out', out);
    assert.is(r.status, 0, r.stderr);
    const metadata = decodeSafetensors(readFileSync(join(out, 'model.safetensors'))).metadata;
    return { out: r.stdout + r.stderr, log: records(out), metadata };
  };
  const full = run('full-res', {}), half = run('half-res', { downsample: 2 });
  assert.match(half.out, /at 1\/2 resolution/);
  // the model says at what resolution it runs, for predict and evaluate
  assert.is(half.metadata.downsample, '2');
  assert.is(full.metadata.downsample, undefined);
  // the same seed and settings: only the cases' resolution differs between the two runs
  const losses = (x: typeof full) => x.log.filter((r) => r.kind === 'iteration').map((r) => r.loss);
  assert.not.equal(losses(half), losses(full), 'the losses ignore data.downsample');
  const dice = (x: typeof full) => x.log.find((r) => r.kind === 'validation').dice;
  assert.is.not(dice(half), dice(full));
});

test('UG-MCL: every loss term logged; a run resumed from its checkpoint ends with the same weights, bit for bit', () => {
  const c = config('resume', {});
  const whole = join(dir, 'whole'), split = join(dir, 'split');
  const a = cli('train', '--config', c, '--backend', 'wasm', '--out', whole);
  assert.is(a.status, 0, a.stderr);
  const b1 = cli('train', '--config', c, '--backend', 'wasm', '--out', split, '--iterations', '3');
  assert.is(b1.status, 0, b1.stderr);
  const b2 = cli('train', '--config', c, '--backend', 'wasm', '--out', split, '--resume');
  assert.is(b2.status, 0, b2.stderr);
  assert.match(b2.stderr, 'resumed from');
  assert.ok(readFileSync(join(whole, 'model.safetensors')).equals(readFileSync(join(split, 'model.safetensors'))), 'weights differ');
  assert.ok(readFileSync(join(whole, 'checkpoint.safetensors')).equals(readFileSync(join(split, 'checkpoint.safetensors'))),
            'teacher, momentum or random state differ');
  // wall time and the heap's high-water mark depend on the process, not on the run
  const strip = (xs: any[]) => xs.map(({ seconds: _s, peakBytes: _p, ...x }) => x);
  assert.equal(strip(records(split)), strip(records(whole)), 'the resumed log reads as one run');
  const it = records(whole)[0];
  assert.equal(Object.keys(it.terms).sort(), ['ce', 'ctc', 'dice', 'dis', 'itc', 'itc_sdm', 'itc_seg', 'sup']);
  for (const k of ['lr', 'lambda', 'threshold', 'maskFraction']) assert.type(it[k], 'number', k);
});

test('UG-MCL with every V-Net block checkpointed trains to the same weights, bit for bit', () => {
  const c = config('checkpointed', { model: { nFilters: 4, checkpoint: true } });
  const out = join(dir, 'checkpointed');
  const r = cli('train', '--config', c, '--backend', 'wasm', '--out', out);
  assert.is(r.status, 0, r.stderr);
  assert.ok(readFileSync(join(dir, 'whole', 'model.safetensors')).equals(readFileSync(join(out, 'model.safetensors'))),
            'weights differ from the run that keeps its activations');
});

test('killed with SIGKILL at random moments, checkpoint writes included, and resumed each time: the same weights', async () => {
  // a checkpoint after every iteration, so that kills land inside writes too
  const c = config('killed', { patch: [32, 48, 32], iterations: 16, checkpoint: { every: 1 }, validation: { every: 8 } });
  const whole = join(dir, 'killed-whole'), killed = join(dir, 'killed');
  assert.is(cli('train', '--config', c, '--backend', 'wasm', '--out', whole).status, 0);
  const seed = Date.now() % 100000;
  let state = seed;
  const random = () => ((state = (state * 48271) % 2147483647) / 2147483647);
  const delays: number[] = [];
  let kills = 0;
  for (let round = 0; round < 4; round++) {
    const resume = existsSync(join(killed, 'checkpoint.safetensors'));
    const delay = Math.round(300 + 1700 * random());
    delays.push(delay);
    const child = spawn(process.execPath, [`${repoRoot}dist/cli.js`, 'train', '--config', c, '--backend', 'wasm', '--out', killed, ...(resume ? ['--resume'] : [])],
                        { cwd: dir, env: { ...process.env, VOXGRAD_THREADS: '2' }, stdio: 'ignore' });
    const timer = setTimeout(() => child.kill('SIGKILL'), delay);
    const { code, signal } = await new Promise<{ code: number | null; signal: string | null }>((done) => child.on('exit', (code, signal) => done({ code, signal })));
    clearTimeout(timer);
    if (signal === 'SIGKILL') kills++;
    else assert.is(code, 0, `round ${round} exited ${code}`);
  }
  const what = `seed ${seed}, kills after ${delays.join(', ')} ms`;
  assert.ok(kills >= 3, `only ${kills} of 4 rounds were killed before the run ended (${what})`);
  const r = cli('train', '--config', c, '--backend', 'wasm', '--out', killed, ...(existsSync(join(killed, 'checkpoint.safetensors')) ? ['--resume'] : []));
  assert.is(r.status, 0, `${what}: ${r.stderr}`);
  assert.ok(readFileSync(join(whole, 'model.safetensors')).equals(readFileSync(join(killed, 'model.safetensors'))), `weights differ (${what})`);
  const iterations = records(killed).filter((x) => x.kind === 'iteration').map((x) => x.iteration);
  assert.equal(iterations, [...Array(16).keys()], `the resumed log reads as one run (${what})`);
});

test('a non-finite loss stops the run, its last checkpoint intact; --skip-nonfinite skips such steps and logs them', async () => {
  // a learning rate of 10⁸ overflows the logits within a few iterations
  const c = config('diverges', { method: 'supervised', iterations: 12, optimizer: { lr: 1e8 }, validation: { every: 0 }, checkpoint: { every: 2 } });
  const out = join(dir, 'diverges');
  const r = cli('train', '--config', c, '--backend', 'wasm', '--out', out);
  assert.is(r.status, 1, r.stderr);
  const m = r.stderr.match(/iteration (\d+): the loss is (NaN|-?Infinity) .*stopped before the update; the last checkpoint \((.*checkpoint\.safetensors)\) is intact/);
  assert.ok(m, r.stderr);
  assert.not.match(r.stderr, /\n\s+at /, 'no stack trace');
  const vg = await import('../index.ts');
  const saved = vg.decodeSafetensors(readFileSync(join(out, 'checkpoint.safetensors')), 'checkpoint');
  assert.is(Number(saved.metadata.iteration), 2 * Math.floor(Number(m![1]) / 2), 'the checkpoint before the failing iteration');

  const skip = cli('train', '--config', c, '--backend', 'wasm', '--out', out, '--resume', '--skip-nonfinite');
  assert.is(skip.status, 0, skip.stderr);
  const log = records(out).filter((x) => x.kind === 'iteration');
  const skipped = log.filter((x) => x.skipped);
  assert.is(log.length, 12);
  assert.ok(skipped.length > 0 && skipped.every((x) => x.loss === null || !Number.isFinite(x.loss)), `${skipped.length} skipped`);
  assert.ok(log.filter((x) => !x.skipped).every((x) => Number.isFinite(x.loss)), 'every step taken had a finite loss');
  assert.match(skip.stdout + skip.stderr, new RegExp(`${skipped.length} iteration\\(s\\) skipped for a non-finite loss`));
  // that a skipped step changes nothing, batch-norm statistics included, is test/skip-step.test.ts
});

const bad: [string, () => string, string | RegExp][] = [
  ['missing config file', () => join(dir, 'nope.json'), /nope\.json: cannot read the config/],
  ['invalid JSON', () => { const p = join(dir, 'broken.json'); writeFileSync(p, '{ "method": '); return p; }, /broken\.json: not valid JSON/],
  ['unknown method', () => config('m', { method: 'fixmatch' }), /m\.json: "method" must be one of supervised, mt, uamt, dtc, ugmcl, got "fixmatch"/],
  ['patch not divisible by 16', () => config('p', { patch: [30, 48, 32] }), /p\.json: "patch" must be divisible by 16/],
  ['misspelt field', () => config('f', { iteratons: 5 }), /f\.json: "iteratons" is not a known field/],
  ['bad nested value', () => config('n', { ugmcl: { beta: 2 } }), /n\.json: "ugmcl\.beta" must be ≤ 1, got 2/],
  ['empty case list', () => { writeFileSync(join(dir, 'empty.list'), '\n'); return config('e', { data: { root: data, train: 'empty.list', labeled: 2 } }); },
   /empty\.list: case list has no IDs/],
  ['more labelled than listed', () => config('l', { data: { root: data, train: 'train.list', labeled: 20 } }),
   /train\.list: lists 8 case\(s\), but the config .* asks for 20 labelled/],
  ['case not on disk', () => { writeFileSync(join(dir, 'ghost.list'), 'ghost_001.nii.gz\nghost_002.nii.gz\nghost_003.nii.gz\nghost_004.nii.gz'); return config('g', { data: { root: data, train: 'ghost.list', labeled: 2 } }); },
   /ghost_001\.nii\.gz/],
  ['missing data root', () => config('r', { data: { root: join(dir, 'nowhere'), train: 'train.list', labeled: 2 } }), /nowhere: dataset root is not a folder/],
  ['no unlabelled cases for a semi-supervised method', () => config('u', { data: { root: data, train: 'train.list', labeled: 8 } }),
   /0 unlabelled case\(s\) after the first 8; method "ugmcl" needs at least 2/],
  ['resume without a checkpoint', () => config('x', {}), /checkpoint\.safetensors: no checkpoint to resume from/],
];

for (const [what, make, message] of bad) {
  test(`refused clearly: ${what}`, () => {
    const args = ['train', '--config', make(), '--backend', 'ref', '--out', join(dir, `bad-${what.replace(/\W+/g, '-')}`)];
    if (what.startsWith('resume')) args.push('--resume');
    const r = cli(...args);
    assert.is(r.status, 1, `exit ${r.status}: ${r.stderr}`);
    assert.match(r.stderr, message);
    assert.not.match(r.stderr, /\n\s+at /, 'no stack trace');
  });
}

test('the demo (npm start) trains both methods, scores them side by side and writes its outputs', () => {
  const out = join(dir, 'demo');
  const r = cli('demo', '--iterations', '4', '--out', out, '--backend', 'wasm');
  assert.is(r.status, 0, r.stderr);
  assert.match(r.stdout, /UG-MCL +0\.\d{4} +0\.\d{4}/);
  assert.match(r.stdout, /supervised +0\.\d{4} +0\.\d{4}/);
  assert.match(r.stdout, /Dice is higher for (UG-MCL|supervised|neither)/);
  for (const f of ['ugmcl/model.safetensors', 'supervised/model.safetensors', 'ugmcl/curves.svg', 'overlay.png', 'evaluation.json']) {
    assert.ok(existsSync(join(out, f)), f);
  }
  const evaluation = JSON.parse(readFileSync(join(out, 'evaluation.json'), 'utf8'));
  assert.is(evaluation.ugmcl.perCase.length, 8);
});

test('refused clearly: an iteration too large for the wasm heap, before any case loads', () => {
  const c = config('huge', { patch: [256, 256, 256], model: { nFilters: 16 } });
  const r = cli('train', '--config', c, '--backend', 'wasm', '--out', join(dir, 'huge'));
  assert.is(r.status, 1, `exit ${r.status}: ${r.stderr}`);
  assert.match(r.stderr, /huge\.json: one ugmcl iteration at patch 256×256×256, batch 2\+2, 16 filters needs about \d+\.\d\d GiB on wasm, above its limit of 4\.00 GiB/);
  assert.not.match(r.stdout + r.stderr, /loading \d+ training case/, 'refused before loading data');
});

test('train without --config prints its usage, exit 2 as for any command line that cannot run', () => {
  const r = cli('train');
  assert.is(r.status, 2);
  assert.match(r.stderr, 'voxgrad train: --config is required');
  assert.match(r.stderr, 'usage: voxgrad train --config FILE');
});

test.run();
