// voxgrad predict and evaluate end to end on bundled hippocampus cases with a small checkpoint:
// geometry kept, masks consistent with the probabilities, LCC leaves one component, and evaluate's
// numbers equal the metrics of predict's masks.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readVolume } from '../io/files.ts';
import { caseMetrics } from '../metrics/medpy.ts';
import { largestComponent } from '../metrics/lcc.ts';
import { repoRoot } from './helpers/fixtures.ts';

const cli = (...args: string[]) => spawnSync(process.execPath, [`${repoRoot}dist/cli.js`, ...args], { cwd: repoRoot, encoding: 'utf8' });
const checkpoint = 'test/fixtures/la_infer_vnet.safetensors';
const window = ['--patch', '32,48,32', '--stride', '16,16,16', '--batch', '8'];
const cases = ['hippocampus_001.nii.gz', 'hippocampus_003.nii.gz'];
const out = mkdtempSync(join(tmpdir(), 'voxgrad-predict-'));

test('predict writes masks and probabilities with the source geometry; --lcc keeps one component', async () => {
  const r = cli('predict', '--checkpoint', checkpoint, '--input', `data/hippocampus/images/${cases[0]}`, '--out', join(out, 'lcc'),
                '--probs', '--lcc', ...window);
  assert.is(r.status, 0, r.stderr);
  assert.match(r.stderr, 'window 8/8');
  const src = await readVolume(`${repoRoot}data/hippocampus/images/${cases[0]}`);
  const mask = await readVolume(join(out, 'lcc', 'hippocampus_001.nii.gz'));
  const prob = await readVolume(join(out, 'lcc', 'hippocampus_001_prob.nii.gz'));
  assert.equal(mask.shape, src.shape);
  assert.equal(mask.affine.map((v) => +v.toFixed(5)), src.affine.map((v) => +v.toFixed(5)));
  let fg = 0;
  for (let i = 0; i < mask.data.length; i++) {
    assert.ok(mask.data[i] === 0 || mask.data[i] === 1, 'binary mask');
    if (mask.data[i]) assert.ok(prob.data[i] > 0.5, 'foreground only where p > 0.5');
    fg += mask.data[i];
  }
  assert.ok(fg > 0, 'something segmented');
  assert.equal(Array.from(largestComponent(mask.data, mask.shape)), Array.from(mask.data), 'one connected component');
});

test('evaluate scores each case exactly as the metrics of predict\'s masks', async () => {
  const list = join(out, 'two.list');
  writeFileSync(list, `${cases.join('\n')}\n`);
  const ev = cli('evaluate', '--checkpoint', checkpoint, '--data', 'data/hippocampus', '--list', list, '--out', join(out, 'ev'), ...window);
  assert.is(ev.status, 0, ev.stderr);
  assert.match(ev.stdout, 'mean');
  const report = JSON.parse(readFileSync(join(out, 'ev', 'evaluation.json'), 'utf8'));
  assert.is(readFileSync(join(out, 'ev', 'evaluation.csv'), 'utf8').trim().split('\n').length, 4, 'header, two cases, mean');
  const paths = join(out, 'paths.list');
  writeFileSync(paths, cases.map((c) => `data/hippocampus/images/${c}`).join('\n'));
  const pr = cli('predict', '--checkpoint', checkpoint, '--input', paths, '--out', join(out, 'plain'), ...window);
  assert.is(pr.status, 0, pr.stderr);
  for (const [k, id] of cases.entries()) {
    const mask = await readVolume(join(out, 'plain', id));
    const label = await readVolume(`${repoRoot}data/hippocampus/labels/${id}`);
    const expected = caseMetrics(mask.data, label.data.map((v) => +(v > 0)), mask.shape);
    for (const key of ['dice', 'jaccard', 'hd95', 'asd', 'assd'] as const) {
      assert.ok(Math.abs(report.cases[k][key] - expected[key]) < 1e-9, `${id} ${key}`);
    }
  }
});

test('predict and evaluate errors name the file and the problem', () => {
  const noConfig = cli('predict', '--checkpoint', 'test/fixtures/vnet_parity.safetensors', '--input', 'data/hippocampus/images', '--out', out);
  assert.is(noConfig.status, 1);
  assert.match(noConfig.stderr, 'vnet_parity.safetensors: checkpoint has no "config" metadata');
  const badList = join(out, 'bad.list');
  writeFileSync(badList, 'data/hippocampus/images/hippocampus_001.nii.gz\nnot_a_case\n');
  assert.match(cli('predict', '--checkpoint', checkpoint, '--input', badList, '--out', out).stderr,
               `${badList}, line 2: "not_a_case" is neither a volume file`);
  assert.match(cli('predict', '--checkpoint', checkpoint, '--input', 'data/hippocampus/images/hippocampus_001.nii.gz', '--out', out, '--patch', '32,48').stderr,
               '--patch 32,48: expected three positive integers');
  assert.match(cli('evaluate', '--checkpoint', checkpoint).stderr, '--data is required');
});

test.run();
