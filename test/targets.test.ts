// computeSdf and innerBoundary against DTC's compute_sdf (scipy EDT) and skimage's find_boundaries,
// from test/fixtures/make_targets.py, on hippocampus labels, training patches and synthetic masks.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { computeSdf, innerBoundary } from '../train/targets/sdf.ts';
import { assertClose, relativeError } from './helpers/compare.ts';
import { f32z, mask, targets } from './helpers/targets-fixture.ts';

const worst: string[] = [];

for (const c of targets.sdf) {
  test(`sdf and inner boundary: ${c.name}`, () => {
    const label = mask(c.label, c.shape);
    const want = f32z(c.sdf);
    const got = computeSdf(label, c.shape);
    assertClose(got, want, 1e-5, `${c.name} sdf`);
    worst.push(`${c.name} ${relativeError(got, want).toExponential(1)}`);
    for (const v of got) assert.ok(v >= -1 && v <= 1, `${c.name}: ${v} outside [−1, 1]`);
    const edge = innerBoundary(label, c.shape);
    const wantEdge = mask(c.boundary, c.shape);
    let diff = 0;
    for (let i = 0; i < edge.length; i++) diff += Number(edge[i] !== wantEdge[i]);
    assert.is(diff, 0, `${c.name}: boundary voxels differing from skimage`);
  });
}

test('labels are taken as label > 0, whatever their values', () => {
  const c = targets.sdf.find((s) => s.name === 'random labels 0-2')!;
  const m = mask(c.label, c.shape);
  const scaled = Float32Array.from(m, (v, i) => (v ? 1 + (i % 3) * 0.5 : -(i % 2)));
  assert.equal(computeSdf(scaled, c.shape), computeSdf(m, c.shape));
  assert.equal(innerBoundary(scaled, c.shape), innerBoundary(m, c.shape));
});

test('wrong lengths are refused', () => {
  assert.throws(() => computeSdf(new Uint8Array(5), [2, 2, 2]), /^voxgrad: computeSdf/);
  assert.throws(() => innerBoundary(new Uint8Array(9), [2, 2, 2]), /^voxgrad: innerBoundary/);
});

function timeMs(label: Uint8Array, shape: [number, number, number], reps: number) {
  computeSdf(label, shape);
  const t0 = performance.now();
  for (let r = 0; r < reps; r++) computeSdf(label, shape);
  return (performance.now() - t0) / reps;
}

test('speed: hippocampus and LA patch sizes', () => {
  const ball = (shape: [number, number, number]) => {
    const [n0, n1, n2] = shape, out = new Uint8Array(n0 * n1 * n2);
    for (let i = 0; i < n0; i++) for (let j = 0; j < n1; j++) for (let k = 0; k < n2; k++)
      out[(i * n1 + j) * n2 + k] = Number(((i - n0 / 3) / n0) ** 2 + ((j - n1 / 2) / n1) ** 2 + ((k - n2 / 2) / n2) ** 2 < 0.06);
    return out;
  };
  const small = timeMs(ball([32, 48, 32]), [32, 48, 32], 10);
  const large = timeMs(ball([112, 112, 80]), [112, 112, 80], 3);
  console.log(`  computeSdf: 32×48×32 ${small.toFixed(1)} ms, 112×112×80 ${large.toFixed(1)} ms`);
  assert.ok(small < 50, `32×48×32 took ${small.toFixed(1)} ms`);
  assert.ok(large < 500, `112×112×80 took ${large.toFixed(1)} ms`);
});

test.after(() => console.log(`  sdf relative errors vs scipy: ${worst.join('; ')}`));
test.run();
