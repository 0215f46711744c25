// A model trained at 1/f of the scans' resolution, scored where the papers score: the probabilities
// resampled to the scan's grid exactly as PyTorch's trilinear interpolate (test/fixtures/
// make_full_resolution.py), the whole chain on a real LA case equal to PyTorch's, and the CLI's masks
// and scores at the input's shape and geometry.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inflateSync } from 'node:zlib';
import * as vg from '../index.ts';
import { decodeSafetensors, encodeSafetensors } from '../nn/safetensors.ts';
import { readVolume } from '../io/files.ts';
import { modelFromCheckpoint } from '../infer/model.ts';
import { predictScan } from '../infer/predict.ts';
import { upsampleTrilinear } from '../infer/resample.ts';
import type { Shape3 } from '../infer/sliding-window.ts';
import { caseMetrics } from '../metrics/medpy.ts';
import { decodeF32, repoRoot } from './helpers/fixtures.ts';

const fx = JSON.parse(readFileSync(`${repoRoot}test/fixtures/full_resolution.json`, 'utf8'));
const backend = vg.registeredBackends().includes('wasm') ? 'wasm' : 'ref';
const laCase = (id: string) => `${repoRoot}../shared/data/la/cases/${id}/mri_norm2.h5`;
const vnetFile = `${repoRoot}test/fixtures/la_infer_vnet.safetensors`;

for (const c of fx.resample) {
  test(`trilinear ×${c.factor}: ${c.small.join('×')} → ${c.full.join('×')} equals PyTorch's interpolate`, () => {
    const y = upsampleTrilinear(decodeF32(c.x), 2, c.small, c.factor, c.full);
    const expected = decodeF32(c.y);
    assert.is(y.length, expected.length);
    let worst = 0;
    for (let i = 0; i < y.length; i++) worst = Math.max(worst, Math.abs(y[i] - expected[i]));
    assert.ok(worst <= 1e-6, `differs by up to ${worst.toExponential(2)}`);
  });
}

test('trilinear refuses a shape that the factor does not reduce to the low grid', () => {
  assert.throws(() => upsampleTrilinear(new Float32Array(8), 1, [2, 2, 2], 2, [5, 4, 4]), /not a volume that 2× downsampling takes to 2×2×2/);
  assert.throws(() => upsampleTrilinear(new Float32Array(7), 1, [2, 2, 2], 2, [4, 4, 4]), /7 values/);
});

test(`LA case ${fx.scan.case}: a half-resolution model's probabilities and mask at full resolution equal PyTorch's`, async () => {
  await vg.setBackend(backend);
  const image = await readVolume(laCase(fx.scan.case));
  assert.equal(image.shape, fx.scan.shape);
  const { net } = modelFromCheckpoint(decodeSafetensors(readFileSync(vnetFile)), vnetFile);
  const pred = await predictScan(net, image, { patch: fx.scan.patch, stride: fx.scan.stride, batch: 2, normalization: 'none', downsample: 2 });
  net.dispose();
  assert.is(pred.label.length, image.data.length);
  const expected = decodeF32(fx.scan.fgSampled);
  let worst = 0;
  for (let k = 0; k < expected.length; k++) worst = Math.max(worst, Math.abs(pred.foreground[k * fx.scan.sampleStride] - expected[k]));
  assert.ok(worst <= 1e-4, `foreground probability differs by up to ${worst.toExponential(2)}`);
  const label = inflateSync(Buffer.from(fx.scan.label, 'base64'));
  let mismatches = 0, foreground = 0;
  for (let i = 0; i < label.length; i++) {
    foreground += pred.label[i];
    if (pred.label[i] !== label[i] && Math.abs(pred.foreground[i] - 0.5) > 1e-4) mismatches++;
  }
  assert.is(mismatches, 0, 'labels differ away from ties');
  assert.ok(Math.abs(foreground - fx.scan.foreground) <= 10, `foreground ${foreground} vs ${fx.scan.foreground}`);
});

const out = mkdtempSync(join(tmpdir(), 'voxgrad-fullres-'));
const cli = (...args: string[]) => spawnSync(process.execPath, [`${repoRoot}dist/cli.js`, ...args], { cwd: repoRoot, encoding: 'utf8' });
/** The fixture network as training at data.downsample 2 writes it: its window and factor in the metadata. */
function halfResolutionCheckpoint(): string {
  const file = decodeSafetensors(readFileSync(vnetFile));
  file.metadata = { ...file.metadata, patch: JSON.stringify(fx.scan.patch), stride: JSON.stringify(fx.scan.stride), downsample: '2' };
  const path = join(out, 'half.safetensors');
  writeFileSync(path, encodeSafetensors(file));
  return path;
}

test('voxgrad predict with a half-resolution checkpoint writes masks of the input\'s shape and geometry', async () => {
  const checkpoint = halfResolutionCheckpoint();
  const input = laCase(fx.scan.case);
  const r = cli('predict', '--checkpoint', checkpoint, '--input', input, '--out', join(out, 'pred'), '--probs', '--backend', backend);
  assert.is(r.status, 0, r.stderr);
  assert.match(r.stderr, 'the model runs at 1/2 resolution');
  assert.match(r.stderr, `window ${fx.scan.windows}/${fx.scan.windows}`);
  const src = await readVolume(input);
  const mask = await readVolume(join(out, 'pred', `${fx.scan.case}.nii.gz`));
  assert.equal(mask.shape, src.shape);
  assert.equal(mask.spacing, src.spacing);
  assert.equal(mask.affine.map((v) => +v.toFixed(5)), src.affine.map((v) => +v.toFixed(5)));
  const label = inflateSync(Buffer.from(fx.scan.label, 'base64'));
  const prob = await readVolume(join(out, 'pred', `${fx.scan.case}_prob.nii.gz`));
  let mismatches = 0;
  for (let i = 0; i < label.length; i++) if (mask.data[i] !== label[i] && Math.abs(prob.data[i] - 0.5) > 1e-4) mismatches++;
  assert.is(mismatches, 0, 'the mask is PyTorch\'s full-resolution label away from ties');
});

test('voxgrad evaluate scores a half-resolution model against the full-resolution label, as predict\'s mask scores', async () => {
  const list = join(out, 'one.list');
  writeFileSync(list, `${fx.scan.case}\n`);
  const data = `${repoRoot}../shared/data/la/cases`;
  const ev = cli('evaluate', '--checkpoint', halfResolutionCheckpoint(), '--data', data, '--list', list, '--out', join(out, 'ev'), '--backend', backend);
  assert.is(ev.status, 0, ev.stderr);
  const report = JSON.parse(readFileSync(join(out, 'ev', 'evaluation.json'), 'utf8'));
  assert.is(report.downsample, 2);
  // The flag gives the factor to a checkpoint that does not carry it, with the same result.
  const flagged = cli('evaluate', '--checkpoint', vnetFile, '--downsample', '2', '--patch', fx.scan.patch.join(','), '--stride', fx.scan.stride.join(','),
                      '--data', data, '--list', list, '--out', join(out, 'ev-flag'), '--backend', backend);
  assert.is(flagged.status, 0, flagged.stderr);
  assert.equal(JSON.parse(readFileSync(join(out, 'ev-flag', 'evaluation.json'), 'utf8')).cases, report.cases);
  const mask = await readVolume(join(out, 'pred', `${fx.scan.case}.nii.gz`));
  const truth = await readVolume(laCase(fx.scan.case), { dataset: 'label' });
  const expected = caseMetrics(mask.data, truth.data.map((v) => +(v > 0)), fx.scan.shape as Shape3);
  for (const key of ['dice', 'jaccard', 'hd95', 'asd', 'assd'] as const) {
    assert.ok(Math.abs(report.cases[0][key] - expected[key]) < 1e-9, `${key}: ${report.cases[0][key]} vs ${expected[key]}`);
  }
});

test('a checkpoint whose "downsample" metadata is not a factor is refused, naming the file', () => {
  const file = decodeSafetensors(readFileSync(vnetFile));
  file.metadata = { ...file.metadata, downsample: '1.5' };
  assert.throws(() => modelFromCheckpoint(file, 'odd.safetensors'), /odd\.safetensors: "downsample" metadata is not an integer from 1 to 8: 1\.5/);
});

test.run();
