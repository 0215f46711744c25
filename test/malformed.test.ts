// A malformed or unexpected file gets one error that names the file and says what is wrong.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, readFileSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { repoRoot } from './helpers/fixtures.ts';
import { requireSharedData } from './helpers/data.ts';
import { readVolume } from '../io/files.ts';
import { FileFormatError } from '../io/volume.ts';

const dir = mkdtempSync(join(tmpdir(), 'voxgrad-malformed-'));
const fixture = (name: string) => readFileSync(`${repoRoot}test/fixtures/volumes/${name}`);
const niftiHeader = () => new Uint8Array(gunzipSync(fixture('float32.nii.gz')));

async function expectError(name: string, bytes: Uint8Array | null, problem: RegExp, opts = {}) {
  const path = join(dir, name);
  if (bytes) writeFileSync(path, bytes);
  try {
    await readVolume(path, opts);
  } catch (e) {
    assert.instance(e, FileFormatError, `${name}: ${(e as Error).message}`);
    const msg = (e as Error).message;
    assert.ok(msg.startsWith(`${path}: `), `message names the file: ${msg}`);
    assert.match(msg, problem);
    return;
  }
  assert.unreachable(`${name} was read without complaint`);
}

test('NIfTI: truncated gzip, not NIfTI, short data, bad datatype, 4-D', async () => {
  const gz = fixture('float32.nii.gz');
  await expectError('cut.nii.gz', gz.subarray(0, gz.length - 40), /gzip data is corrupt or truncated/);
  await expectError('text.nii', new TextEncoder().encode('hello, this is not an image'.repeat(20)), /not a NIfTI file/);
  const h = niftiHeader();
  await expectError('short.nii', h.subarray(0, 352 + 10), /truncated: 5×4×3 float32 voxels from byte 352 need 592 bytes, the file has 362/);
  const rgb = niftiHeader();
  new DataView(rgb.buffer).setInt16(70, 128, true);
  await expectError('rgb.nii', rgb, /unsupported NIfTI datatype code 128/);
  const fourD = niftiHeader();
  new DataView(fourD.buffer).setInt16(40, 4, true);
  new DataView(fourD.buffer).setInt16(48, 2, true);
  await expectError('4d.nii.gz', gzipSync(fourD), /has 4 dimensions \(5×4×3×2\); only 3-D volumes are supported/);
  const magic = niftiHeader();
  magic.set([0x78, 0x78, 0x78, 0], 344);
  await expectError('magic.nii', magic, /bad NIfTI-1 magic/);
});

test('NRRD: unsupported encoding, missing field, truncated data, not NRRD', async () => {
  const head = (lines: string[]) => new TextEncoder().encode(['NRRD0004', ...lines, '', ''].join('\n'));
  const base = ['type: short', 'dimension: 3', 'sizes: 4 3 2', 'endian: little'];
  await expectError('ascii.nrrd', head([...base, 'encoding: ascii']), /unsupported NRRD encoding "ascii"/);
  await expectError('nosizes.nrrd', head(['type: short', 'dimension: 3', 'encoding: raw']), /lacks the required "sizes" field/);
  await expectError('short.nrrd', new Uint8Array([...head([...base, 'encoding: raw']), 1, 2, 3]), /truncated: 4×3×2 int16 voxels need 48 bytes of raw data, found 3/);
  await expectError('plain.nrrd', new TextEncoder().encode('P5 4 3 255\n'), /not a NRRD file/);
  await expectError('badgz.nrrd', new Uint8Array([...head([...base, 'encoding: gzip']), 0x1f, 0x8b, 8, 0, 1, 2]), /gzip data is corrupt/);
});

test('HDF5: not HDF5, missing dataset; missing file; unknown format', async () => {
  await expectError('fake.h5', new Uint8Array(2048).fill(7), /not an HDF5 file/);
  const la = `${requireSharedData()}/la/cases`;
  const id = readFileSync(`${requireSharedData()}/la/train.list`, 'utf8').split('\n')[0].trim();
  const h5 = readFileSync(`${la}/${id}/mri_norm2.h5`);
  await expectError('la.h5', h5, /has no dataset "prediction" \(it has: image, label\)/, { dataset: 'prediction' });
  await expectError('la-cut.h5', h5.subarray(0, h5.length / 2), /HDF5 cannot open it: file has been truncated/);
  await expectError('absent.nii.gz', null, /no such file/);
  await expectError('scan.mha', new Uint8Array(10), /unknown volume format/);
});

test.after(() => rmSync(dir, { recursive: true, force: true }));
test.run();
