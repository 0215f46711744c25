// Datasets: the paper's root + train.list h5 layout (IDs with spaces too) and MSD-style folders.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, mkdirSync, copyFileSync, writeFileSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot } from './helpers/fixtures.ts';
import { requireSharedData } from './helpers/data.ts';
import { openDataset } from '../datasets/dataset.ts';
import { parseList } from '../datasets/list.ts';
import { FileFormatError } from '../io/volume.ts';

const tmp = mkdtempSync(join(tmpdir(), 'voxgrad-datasets-'));
const stats = (d: Float32Array) => {
  let s = 0, q = 0;
  for (const v of d) { s += v; q += v * v; }
  const mean = s / d.length;
  return { mean, std: Math.sqrt(q / d.length - mean * mean) };
};

test('list files: IDs with spaces, CRLF, blank lines, BraTS-style commas', () => {
  assert.equal(parseList('a b\r\n\r\n  c  \nBraTS19_1,extra\n'), ['a b', 'c', 'BraTS19_1']);
});

test('LA: root + train.list, h5 layout, stored values used as they are', async () => {
  const la = `${requireSharedData()}/la`;
  const ds = await openDataset({ root: `${la}/cases`, list: `${la}/train.list`, spacing: [0.625, 0.625, 0.625] });
  assert.is(ds.layout, 'h5');
  assert.is(ds.ids.length, 80);
  assert.is(ds.normalization, 'none');
  const fx = JSON.parse(readFileSync(`${repoRoot}test/fixtures/readers.json`, 'utf8')).la[0];
  assert.is(ds.ids[0], fx.id);
  const c = await ds.load(ds.ids[0]);
  assert.equal(c.image.shape, fx.image.shape);
  assert.equal(c.image.spacing, [0.625, 0.625, 0.625]);
  let s = 0;
  for (const v of c.image.data) s += v;
  assert.ok(Math.abs(s - fx.image.sum) < 1e-6 * Math.abs(fx.image.sum), 'image not renormalised');
});

test('downsample 2 on a real LA case: block means of the image, block majorities of the label, spacing ×2', async () => {
  const la = `${requireSharedData()}/la`;
  const opts = { root: `${la}/cases`, list: `${la}/train.list`, spacing: [0.625, 0.625, 0.625] as [number, number, number] };
  const full = await (await openDataset(opts)).load('06SR5RBREL16DQ6M8LWS');
  const half = await (await openDataset({ ...opts, downsample: 2 })).load('06SR5RBREL16DQ6M8LWS');
  const [X, Y, Z] = full.image.shape;
  assert.equal(half.image.shape, [Math.ceil(X / 2), Math.ceil(Y / 2), Math.ceil(Z / 2)]);
  assert.equal(half.image.spacing, [1.25, 1.25, 1.25]);
  const [, h1, h2] = half.image.shape;
  let checked = 0, fg = 0;
  for (let i = 0; i < half.image.shape[0]; i += 7) for (let j = 0; j < h1; j += 5) for (let k = 0; k < h2; k += 3) {
    let sum = 0, n = 0, ones = 0;
    for (let x = 2 * i; x < Math.min(X, 2 * i + 2); x++) for (let y = 2 * j; y < Math.min(Y, 2 * j + 2); y++) for (let z = 2 * k; z < Math.min(Z, 2 * k + 2); z++) {
      sum += full.image.data[(x * Y + y) * Z + z]; ones += full.label.data[(x * Y + y) * Z + z]; n++;
    }
    const at = (i * h1 + j) * h2 + k;
    assert.ok(Math.abs(half.image.data[at] - sum / n) <= 1e-6 * Math.max(1, Math.abs(sum / n)), `image at ${i},${j},${k}`);
    assert.is(half.label.data[at], ones * 2 > n ? 1 : 0, `label at ${i},${j},${k}`);
    checked++; fg += half.label.data[at];
  }
  assert.ok(checked > 1000 && fg > 10, `${checked} blocks checked, ${fg} foreground`);
});

test('h5 layout with a case folder name containing spaces', async () => {
  const la = `${requireSharedData()}/la`;
  const id = parseList(readFileSync(`${la}/train.list`, 'utf8'))[1];
  const root = join(tmp, 'LA Seg Training Set');
  mkdirSync(join(root, 'case with spaces 01'), { recursive: true });
  copyFileSync(`${la}/cases/${id}/mri_norm2.h5`, join(root, 'case with spaces 01', 'mri_norm2.h5'));
  writeFileSync(join(tmp, 'my train.list'), 'case with spaces 01\r\n');
  const ds = await openDataset({ root, list: join(tmp, 'my train.list'), normalization: 'zscore' });
  assert.equal(ds.ids, ['case with spaces 01']);
  const { image, label } = await ds.load(ds.ids[0]);
  const { mean, std } = stats(image.data);
  assert.ok(Math.abs(mean) < 1e-4 && Math.abs(std - 1) < 1e-4, `z-scored: mean ${mean}, std ${std}`);
  assert.ok(label.data.every((v) => v === 0 || v === 1));
});

test('MSD images/labels + cases.list (the bundled demo data): z-scored images, binary labels', async () => {
  const ds = await openDataset({ root: `${repoRoot}data/hippocampus` });
  assert.is(ds.layout, 'msd');
  assert.is(ds.ids.length, 10);
  const c = await ds.load(ds.ids[0]);
  assert.equal(c.image.shape, [35, 51, 35]);
  const { mean, std } = stats(c.image.data);
  assert.ok(Math.abs(mean) < 1e-4 && Math.abs(std - 1) < 1e-4, `z-scored: mean ${mean}, std ${std}`);
  assert.ok(c.label.data.every((v) => v === 0 || v === 1) && c.label.data.includes(1), 'binary label');
});

test('MSD imagesTr/labelsTr without a list; a missing case names its file', async () => {
  const root = join(tmp, 'Task04');
  mkdirSync(join(root, 'imagesTr'), { recursive: true });
  mkdirSync(join(root, 'labelsTr'), { recursive: true });
  for (const n of ['hippocampus_003.nii.gz', 'hippocampus_001.nii.gz']) {
    copyFileSync(`${repoRoot}data/hippocampus/images/${n}`, join(root, 'imagesTr', n));
    copyFileSync(`${repoRoot}data/hippocampus/labels/${n}`, join(root, 'labelsTr', n));
  }
  const ds = await openDataset({ root, normalization: 'none', binaryLabels: false });
  assert.equal(ds.ids, ['hippocampus_001.nii.gz', 'hippocampus_003.nii.gz']);
  const c = await ds.load('hippocampus_001');
  assert.ok(c.label.data.includes(2), 'labels kept as stored');
  try {
    await ds.load('hippocampus_999');
    assert.unreachable('missing case loaded');
  } catch (e) {
    assert.instance(e, FileFormatError);
    assert.match((e as Error).message, `${join(root, 'imagesTr', 'hippocampus_999')}: no such file`);
  }
});

test.after(() => rmSync(tmp, { recursive: true, force: true }));
test.run();
