// Surface distances as medpy.metric.binary computes them: surfaces are 6-connected
// (mask XOR erosion), d(A→B) is the EDT to B's surface sampled on A's surface, in voxels unless
// a spacing is given. Empty masks raise, as medpy does.
import { surface } from './morphology.ts';
import { squaredEdt } from './edt.ts';

export type Spacing = readonly [number, number, number];

/** Bounding box [lo, hi) per axis of the non-zero voxels of any of the masks. */
function boundingBox(masks: Uint8Array[], shape: readonly number[]): [number, number][] {
  const [, ny, nz] = shape;
  const lo = [Infinity, Infinity, Infinity], hi = [-1, -1, -1];
  for (const m of masks)
    for (let i = 0; i < m.length; i++) {
      if (!m[i]) continue;
      const c = [Math.floor(i / (ny * nz)), Math.floor(i / nz) % ny, i % nz];
      for (let a = 0; a < 3; a++) { if (c[a] < lo[a]) lo[a] = c[a]; if (c[a] > hi[a]) hi[a] = c[a]; }
    }
  return lo.map((l, a) => [l, hi[a] + 1]);
}

function crop(m: Uint8Array, shape: readonly number[], box: [number, number][]): Uint8Array {
  const [, ny, nz] = shape;
  const out = new Uint8Array(box.reduce((n, [l, h]) => n * (h - l), 1));
  let o = 0;
  for (let x = box[0][0]; x < box[0][1]; x++)
    for (let y = box[1][0]; y < box[1][1]; y++)
      for (let z = box[2][0]; z < box[2][1]; z++) out[o++] = m[(x * ny + y) * nz + z];
  return out;
}

function directed(from: Uint8Array, to: Uint8Array, shape: readonly number[], spacing: Spacing): Float64Array {
  const dt = squaredEdt(to, shape, spacing);
  const out: number[] = [];
  for (let i = 0; i < from.length; i++) if (from[i]) out.push(Math.sqrt(dt[i]));
  return Float64Array.from(out);
}

function binarize(m: ArrayLike<number>): Uint8Array {
  const out = new Uint8Array(m.length);
  for (let i = 0; i < m.length; i++) out[i] = m[i] !== 0 ? 1 : 0;
  return out;
}

/** Both directed surface-distance lists, [d(result→reference), d(reference→result)]. */
export function surfaceDistances(
  result: ArrayLike<number>, reference: ArrayLike<number>, shape: readonly number[], spacing: Spacing = [1, 1, 1],
): [Float64Array, Float64Array] {
  const n = shape[0] * shape[1] * shape[2];
  if (result.length !== n || reference.length !== n)
    throw new Error(`masks of ${result.length} and ${reference.length} voxels do not fit shape ${shape.join('×')}`);
  const a = surface(binarize(result), shape), b = surface(binarize(reference), shape);
  if (!a.includes(1)) throw new Error('the result (prediction) mask is empty: surface distances are undefined');
  if (!b.includes(1)) throw new Error('the reference (label) mask is empty: surface distances are undefined');
  // Every surface voxel lies in the surfaces' joint bounding box, so the EDT there is exact.
  const box = boundingBox([a, b], shape);
  const sub = box.map(([l, h]) => h - l);
  const [ca, cb] = [crop(a, shape, box), crop(b, shape, box)];
  return [directed(ca, cb, sub, spacing), directed(cb, ca, sub, spacing)];
}
