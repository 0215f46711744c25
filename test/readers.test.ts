// Readers against h5py/nibabel/numpy read-outs (test/readers_reference.py), on the real LA and
// hippocampus files and on small synthetic NIfTI/NRRD files; the writer by round trip.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync, readdirSync } from 'node:fs';
import { repoRoot, decodeF32 } from './helpers/fixtures.ts';
import { requireSharedData } from './helpers/data.ts';
import { assertClose } from './helpers/compare.ts';
import { readVolume, readBytes } from '../io/files.ts';
import { parseH5 } from '../io/h5.ts';
import { parseNifti, encodeNifti } from '../io/nifti.ts';
import type { Volume } from '../io/volume.ts';
import { streams } from '../io/gzip.ts';

const fx = JSON.parse(readFileSync(`${repoRoot}test/fixtures/readers.json`, 'utf8'));
const volumes = `${repoRoot}test/fixtures/volumes`;

interface Summary { shape: number[]; sum: number; sumsq: number; samples: [number[], number][] }

function checkSummary(v: Volume, want: Summary, what: string) {
  assert.equal(v.shape, want.shape, `${what} shape`);
  let sum = 0, sumsq = 0;
  const d = v.data;
  for (let i = 0; i < d.length; i++) { sum += d[i]; sumsq += d[i] * d[i]; }
  assert.ok(Math.abs(sum - want.sum) <= 1e-9 * Math.max(1, Math.abs(want.sum)), `${what} sum ${sum} vs ${want.sum}`);
  assert.ok(Math.abs(sumsq - want.sumsq) <= 1e-9 * Math.max(1, want.sumsq), `${what} sum of squares ${sumsq} vs ${want.sumsq}`);
  const [, ny, nz] = v.shape;
  for (const [[x, y, z], value] of want.samples)
    assert.is(v.data[(x * ny + y) * nz + z], Math.fround(value), `${what} voxel (${x},${y},${z})`);
}

test(`every LA case opens and matches h5py (${fx.la.length} cases)`, async () => {
  const root = `${requireSharedData()}/la/cases`;
  assert.equal(readdirSync(root).sort(), fx.la.map((c: { id: string }) => c.id).sort(), 'the fixture covers every case folder');
  for (const c of fx.la) {
    const file = `${root}/${c.id}/mri_norm2.h5`;
    const { image, label } = await parseH5(await readBytes(file), file, ['image', 'label'], [0.625, 0.625, 0.625]);
    checkSummary(image, c.image, `${c.id} image`);
    checkSummary(label, c.label, `${c.id} label`);
    assert.equal(image.spacing, [0.625, 0.625, 0.625]);
  }
});

test('real hippocampus NIfTI files match nibabel', async () => {
  const root = requireSharedData();
  for (const c of fx.hippocampus) {
    const v = await readVolume(`${root}/${c.file}`);
    checkSummary(v, c, c.file);
    assertClose(v.affine, c.affine, 1e-7, `${c.file} affine`);
    assert.equal(v.spacing, c.zooms, `${c.file} spacing`);
  }
});

test('synthetic NIfTI: every datatype, scaling, big-endian, NIfTI-2, qform-only, no orientation', async () => {
  assert.ok(fx.nifti.length >= 13);
  for (const c of fx.nifti) {
    const v = await readVolume(`${volumes}/${c.file}`);
    assert.equal(v.shape, [5, 4, 3], `${c.file} shape`);
    assertClose(v.data, decodeF32(c.data), 1e-7, `${c.file} values`);
    assertClose(v.affine, c.affine, 1e-6, `${c.file} affine`);
    assertClose(v.spacing, c.zooms.map(Math.abs), 1e-7, `${c.file} spacing`);
  }
});

test('NRRD raw and gzip (LA-challenge-style headers) match numpy', async () => {
  assert.ok(fx.nrrd.length >= 6);
  for (const c of fx.nrrd) {
    const v = await readVolume(`${volumes}/${c.file}`);
    assert.equal(v.shape, [6, 5, 4], `${c.file} shape`);
    assertClose(v.data, decodeF32(c.data), 1e-7, `${c.file} values`);
    assertClose(v.affine, c.affine, 1e-12, `${c.file} affine`);
  }
});

async function roundTrip(v: Volume, type: 'uint8' | 'float32') {
  const back = await parseNifti(await encodeNifti(v, type), 'round trip');
  assert.equal(back.shape, v.shape);
  assertClose(back.data, v.data, 0, `${v.source} values through ${type}`);
  assertClose(back.affine, v.affine, 1e-6, `${v.source} affine`);
  return back;
}

test('writer: NIfTI-1 .nii.gz round trip keeps values and geometry (sform and qform agree)', async () => {
  const root = requireSharedData();
  await roundTrip(await readVolume(`${root}/hippocampus/images/hippocampus_003.nii.gz`), 'float32');
  await roundTrip(await readVolume(`${root}/hippocampus/labels/hippocampus_001.nii.gz`), 'uint8');
  await roundTrip(await readVolume(`${volumes}/laendo-like.nrrd`), 'uint8');
  const rotated = await readVolume(`${volumes}/qform-only.nii.gz`);
  const written = await encodeNifti(rotated, 'float32');
  // Blank the sform code: the qform alone must give the same affine.
  const { gunzipSync, gzipSync } = await import('node:zlib');
  const raw = new Uint8Array(gunzipSync(written));
  new DataView(raw.buffer).setInt16(254, 0, true);
  const viaQform = await parseNifti(gzipSync(raw), 'qform only');
  assertClose(viaQform.affine, rotated.affine, 1e-6, 'affine from the written qform');
});

test("the browsers' gzip path (Compression Streams) reads and writes what zlib does", async () => {
  const { gunzipSync, gzipSync } = await import('node:zlib');
  const gz = new Uint8Array(readFileSync(`${volumes}/float32.nii.gz`));
  assert.equal(await streams.gunzip(gz), new Uint8Array(gunzipSync(gz)));
  const raw = new Uint8Array(gunzipSync(gz));
  assert.equal(new Uint8Array(gunzipSync(await streams.gzip(raw))), raw);
  assert.equal(await streams.gunzip(new Uint8Array(gzipSync(raw))), raw);
});

test.run();
