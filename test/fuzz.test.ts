// Fuzzing the readers and checkpoint loading with mutated real files (bit flips, inserted bytes,
// truncation, header fields set to absurd values): every case must either load or fail with an Error
// whose message names the file, within a second, never with a bare RangeError/TypeError or a hang.
// VOXGRAD_FUZZ_CASES=N (default 2400 in all) sets the count; VOXGRAD_FUZZ_SEED the generator's seed.
//   VOXGRAD_FUZZ_CASES=100000 node node_modules/uvu/bin.js build/test '^fuzz.test.js$'
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as vg from '../index.ts';
import { modelFromCheckpoint } from '../infer/model.ts';
import { repoRoot } from './helpers/fixtures.ts';
import { requireSharedData } from './helpers/data.ts';

const TOTAL = Number(process.env.VOXGRAD_FUZZ_CASES ?? 2400);
const gen = new vg.Generator(Number(process.env.VOXGRAD_FUZZ_SEED ?? 20261204));
const pick = <T>(xs: readonly T[]): T => xs[Math.floor(gen.uniform() * xs.length)];
const below = (n: number) => Math.floor(gen.uniform() * n);

const ABSURD = [0, -1, 1, 255, 32767, -32768, 65535, 2 ** 31 - 1, 1e9, 1e30, NaN, Infinity, -Infinity];

interface Field { offset: number; type: 'i16' | 'i32' | 'f32' }
/** NIfTI-1 header fields worth lying about: sizeof_hdr, dim[0..4], datatype, bitpix, vox_offset, scl_slope/inter. */
const NIFTI_FIELDS: Field[] = [
  { offset: 0, type: 'i32' }, { offset: 40, type: 'i16' }, { offset: 42, type: 'i16' }, { offset: 44, type: 'i16' },
  { offset: 46, type: 'i16' }, { offset: 48, type: 'i16' }, { offset: 70, type: 'i16' }, { offset: 72, type: 'i16' },
  { offset: 108, type: 'f32' }, { offset: 112, type: 'f32' }, { offset: 116, type: 'f32' }, { offset: 80, type: 'f32' },
];

function mutate(src: Uint8Array, header: number, fields: Field[] = []): Uint8Array {
  const kind = below(fields.length ? 5 : 4);
  if (kind === 0) { // flip 1–8 bits, mostly in the header, where they matter
    const x = src.slice();
    for (let i = 0, n = 1 + below(8); i < n; i++) {
      const at = gen.uniform() < 0.8 ? below(Math.min(header, x.length)) : below(x.length);
      x[at] ^= 1 << below(8);
    }
    return x;
  }
  if (kind === 1) return src.slice(0, below(src.length)); // truncation
  if (kind === 2) { // inserted bytes
    const at = below(Math.min(header, src.length)), extra = Uint8Array.from({ length: 1 + below(16) }, () => below(256));
    const x = new Uint8Array(src.length + extra.length);
    x.set(src.subarray(0, at));
    x.set(extra, at);
    x.set(src.subarray(at), at + extra.length);
    return x;
  }
  if (kind === 3) { // deleted bytes
    const at = below(Math.min(header, src.length)), n = 1 + below(16);
    const x = new Uint8Array(Math.max(src.length - n, 0));
    x.set(src.subarray(0, at));
    x.set(src.subarray(at + n), at);
    return x;
  }
  const x = src.slice(), dv = new DataView(x.buffer), f = pick(fields), v = pick(ABSURD);
  if (f.type === 'i16') dv.setInt16(f.offset, v, true);
  else if (f.type === 'i32') dv.setInt32(f.offset, v, true);
  else dv.setFloat32(f.offset, v, true);
  return x;
}

interface Target { name: string; bytes: Uint8Array; header: number; fields?: Field[]; share: number; load: (b: Uint8Array) => Promise<unknown> }

// plain Uint8Arrays, not Buffers: Buffer.slice is a view, and a mutation must never reach the source
const read = (path: string) => new Uint8Array(readFileSync(path));
const niftiGz = read(`${repoRoot}data/hippocampus/images/hippocampus_092.nii.gz`);
const labelGz = read(`${repoRoot}data/hippocampus/labels/hippocampus_092.nii.gz`);
const model = read(`${repoRoot}models/hippocampus-ugmcl-l16-s0.safetensors`);
const modelHeader = 8 + Number(new DataView(model.buffer, model.byteOffset).getBigUint64(0, true));
const volume = (name: string) => (b: Uint8Array) => vg.parseVolume(b, name);

function targets(): Target[] {
  const shared = requireSharedData();
  return [
    { name: 'image.nii', bytes: new Uint8Array(gunzipSync(niftiGz)), header: 352, fields: NIFTI_FIELDS, share: 0.3, load: volume('image.nii') },
    { name: 'image.nii.gz', bytes: niftiGz, header: 64, share: 0.15, load: volume('image.nii.gz') },
    { name: 'label.nii', bytes: new Uint8Array(gunzipSync(labelGz)), header: 352, fields: NIFTI_FIELDS, share: 0.15, load: volume('label.nii') },
    { name: 'volume.nrrd', bytes: read(`${repoRoot}test/fixtures/volumes/int16-raw.nrrd`), header: 200, share: 0.15, load: volume('volume.nrrd') },
    { name: 'mri_norm2.h5', bytes: read(`${shared}/la/cases/MFTDVMBWFNQ3F5KHBRDR/mri_norm2.h5`), header: 4096, share: 0.05,
      load: volume('mri_norm2.h5') },
    { name: 'model.safetensors', bytes: model, header: modelHeader, share: 0.2,
      load: async (b) => modelFromCheckpoint(vg.decodeSafetensors(b, 'model.safetensors'), 'model.safetensors').net.dispose() },
  ];
}

test('every file loads as it is (so a refusal below is the mutation\'s doing)', async () => {
  await vg.setBackend('ref');
  for (const t of targets()) await t.load(t.bytes);
});

/**
 * A hang shows as a case far over its limit. A refused .h5 file costs a fresh HDF5 instance (its
 * wasm memory is its own: h5wasm exports it, so it cannot be handed on), and about one start in 240
 * waits for a full garbage collection that reclaims dropped instances' memory reservations: measured
 * 1.4–4.7 s on a quiet machine, 10.6 s beside other jobs. Those cases get 30 s.
 */
const limitMs = (name: string) => (name.endsWith('.h5') ? 30_000 : 1000);

test(`${TOTAL} mutated files: each loads or fails with one clear error naming the file`, async () => {
  await vg.setBackend('ref');
  const list = targets();
  const problems: string[] = [];
  const tally = new Map<string, { loaded: number; refused: number }>();
  // resident memory before and after each target's cases: a reader that leaks per refused file shows here
  const MB = () => (process.memoryUsage().rss / 1e6).toFixed(0);
  const rss: string[] = [`start ${MB()}`];
  for (const t of list) {
    const original = t.bytes.slice();
    const count = Math.round(TOTAL * t.share);
    const row = { loaded: 0, refused: 0 };
    tally.set(t.name, row);
    for (let i = 0; i < count; i++) {
      const input = mutate(t.bytes, t.header, t.fields);
      const t0 = performance.now();
      try {
        await t.load(input);
        row.loaded++;
      } catch (e) {
        const err = e as Error;
        if (!(err instanceof Error) || !err.message.includes(t.name) || /^(RangeError|TypeError)$/.test(err.name)) {
          problems.push(`${t.name} case ${i}: ${err?.name}: ${String(err?.message).slice(0, 200)}`);
        } else {
          row.refused++;
        }
      }
      const ms = performance.now() - t0;
      if (ms > limitMs(t.name)) problems.push(`${t.name} case ${i}: took ${ms.toFixed(0)} ms`);
    }
    assert.ok(t.bytes.every((b, i) => b === original[i]), `${t.name}: the source bytes stayed as read`);
    rss.push(`${t.name} ${MB()}`);
  }
  console.log(`\n  fuzz: ${[...tally].map(([n, r]) => `${n} ${r.loaded} loaded / ${r.refused} refused`).join('; ')}`);
  console.log(`  fuzz: RSS in MB, ${rss.join(', then after ')}; ${problems.length} problem case(s)`);
  assert.equal(problems.slice(0, 20), [], `${problems.length} problem case(s)`);
});

const CLI_CASES = Number(process.env.VOXGRAD_FUZZ_CLI_CASES ?? 24);

test(`voxgrad metrics and predict on ${CLI_CASES} mutated files each: success, or exit 1 ending in one line naming the file`, () => {
  const dir = mkdtempSync(join(tmpdir(), 'voxgrad-fuzz-'));
  const label = join(dir, 'label.nii.gz');
  writeFileSync(label, labelGz);
  const problems: string[] = [];
  const check = (what: string, file: string, args: string[]) => {
    const r = spawnSync(process.execPath, [`${repoRoot}dist/cli.js`, ...args], { encoding: 'utf8', timeout: 60_000 });
    const lines = r.stderr.trim().split('\n').filter(Boolean);
    if (r.status === 0) return;
    if (r.status !== 1 || r.signal) problems.push(`${what}: status ${r.status} signal ${r.signal}`);
    // progress lines may come first; the error is the last line, names the file, and no stack follows
    else if (!lines.at(-1)?.startsWith('voxgrad ') || !lines.at(-1)!.includes(file) || /\n\s+at /.test(r.stderr)) {
      problems.push(`${what}: ${r.stderr.slice(0, 300)}`);
    }
  };
  for (let i = 0; i < CLI_CASES; i++) {
    const pred = join(dir, `pred-${i}.nii`);
    writeFileSync(pred, mutate(new Uint8Array(gunzipSync(labelGz)), 352, NIFTI_FIELDS));
    check(`metrics case ${i}`, pred, ['metrics', '--pred', pred, '--label', label]);
    const image = join(dir, `image-${i}.nii`);
    writeFileSync(image, mutate(new Uint8Array(gunzipSync(niftiGz)), 352, NIFTI_FIELDS));
    check(`predict case ${i}`, image, ['predict', '--checkpoint', `${repoRoot}models/hippocampus-ugmcl-l16-s0.safetensors`,
                                       '--input', image, '--out', join(dir, `out-${i}`), '--backend', 'wasm']);
  }
  assert.equal(problems, []);
});

test.run();
