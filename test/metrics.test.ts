// medpy-exact metrics against test/metrics_reference.py (scipy) on real label pairs.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { repoRoot } from './helpers/fixtures.ts';
import { requireSharedData } from './helpers/data.ts';
import { unpackMask, shiftMask } from './helpers/masks.ts';
import { caseMetrics, hd95, asd, assd, type CaseMetrics } from '../metrics/medpy.ts';
import { dice, jaccard } from '../metrics/overlap.ts';
import { largestComponent } from '../metrics/lcc.ts';
import { percentile } from '../metrics/percentile.ts';
import { squaredEdt } from '../metrics/edt.ts';
import { parseH5 } from '../io/h5.ts';
import { readBytes } from '../io/files.ts';

type Expected = CaseMetrics & { name?: string; spacing: [number, number, number] | null };
const fx = JSON.parse(readFileSync(`${repoRoot}test/fixtures/metrics.json`, 'utf8'));

function check(got: CaseMetrics, want: Expected, what: string) {
  for (const k of ['dice', 'jaccard'] as const)
    assert.ok(Math.abs(got[k] - want[k]) <= 1e-6, `${what} ${k}: ${got[k]} vs scipy ${want[k]}`);
  for (const k of ['hd95', 'asd', 'assd'] as const)
    assert.ok(Math.abs(got[k] - want[k]) <= 1e-4, `${what} ${k}: ${got[k]} vs scipy ${want[k]}`);
}

for (const c of fx.cases) {
  test(`hippocampus: ${c.name}`, () => {
    const n = c.shape[0] * c.shape[1] * c.shape[2];
    const [r, f] = [unpackMask(c.result, n), unpackMask(c.reference, n)];
    const spacing = c.spacing ?? undefined;
    check(caseMetrics(r, f, c.shape, spacing), c, c.name);
    // The single-metric entry points agree with the combined one.
    check({ dice: dice(r, f), jaccard: jaccard(r, f), hd95: hd95(r, f, c.shape, spacing), asd: asd(r, f, c.shape, spacing),
            assd: assd(r, f, c.shape, spacing) }, c, `${c.name} (separate calls)`);
  });
}

for (const c of fx.la) {
  test(`LA ${c.id} label vs itself shifted by ${c.shift}`, async () => {
    const file = `${requireSharedData()}/la/cases/${c.id}/mri_norm2.h5`;
    const { label } = await parseH5(await readBytes(file), file, ['label']);
    const moved = shiftMask(label.data, label.shape, c.shift);
    check(caseMetrics(moved, label.data, label.shape, c.spacing ?? undefined), c, `LA ${c.id}`);
  });
}

test('largest connected component matches skimage.measure.label (26-connected)', () => {
  const c = fx.lcc[0];
  const n = c.shape[0] * c.shape[1] * c.shape[2];
  const got = largestComponent(unpackMask(c.mask, n), c.shape);
  const want = unpackMask(c.expected, n);
  let diff = 0;
  for (let i = 0; i < n; i++) diff += +(got[i] !== want[i]);
  assert.is(diff, 0, `voxels differing from skimage's largest component (of ${c.components})`);
  // Diagonal-only neighbours are one component under full connectivity.
  const diag = new Uint8Array(45); [0, 21, 42, 4].forEach((i) => (diag[i] = 1)); // (0,0,0) (1,1,1) (2,2,2) | (0,0,4)
  assert.equal(Array.from(largestComponent(diag, [3, 3, 5])), Array.from(diag.map((v, i) => (i === 4 ? 0 : v))));
});

test('numpy linear percentile', () => {
  const a = Float64Array.from([5, 1, 4, 2, 3]);
  assert.is(percentile(a, 95), 4.8);
  assert.is(percentile(a, 50), 3);
  assert.is(percentile(Float64Array.from([7]), 95), 7);
});

test('EDT: brute force on a small anisotropic grid', () => {
  const shape = [6, 5, 7], sp = [0.7, 1.3, 2.1];
  const n = 6 * 5 * 7;
  const feat = new Uint8Array(n);
  [3, 40, 111, 177, 209].forEach((i) => (feat[i] = 1));
  const d = squaredEdt(feat, shape, sp);
  const coord = (i: number) => [Math.floor(i / 35), Math.floor(i / 7) % 5, i % 7];
  for (let i = 0; i < n; i++) {
    let best = Infinity;
    for (let j = 0; j < n; j++) {
      if (!feat[j]) continue;
      const [a, b] = [coord(i), coord(j)];
      best = Math.min(best, a.reduce((s, v, k) => s + ((v - b[k]) * sp[k]) ** 2, 0));
    }
    assert.ok(Math.abs(d[i] - best) < 1e-9, `voxel ${i}: ${d[i]} vs ${best}`);
  }
});

test('empty masks: distances refuse, overlap follows medpy', () => {
  const z = new Uint8Array(8), one = new Uint8Array(8); one[0] = 1;
  assert.throws(() => caseMetrics(z, one, [2, 2, 2]), /prediction\) mask is empty/);
  assert.throws(() => caseMetrics(one, z, [2, 2, 2]), /label\) mask is empty/);
  assert.is(dice(z, z), 1);
  assert.is(dice(z, one), 0);
});

test.run();
