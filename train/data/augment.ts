// The training transforms of UA-MT / DTC / UG-MCL (`RandomRotFlip`, `RandomCrop` in la_heart.py and
// brats2019.py) on row-major volumes: a pure function for each, and wrappers that draw the same
// random choices as the reference, in the same order, from the project's Generator.
import type { Generator } from '../../engine/random.ts';

export type Shape3 = [number, number, number];
export type VoxelArray = Float32Array | Uint8Array;
export interface Shaped<T extends VoxelArray> { data: T; shape: Shape3 }
export type IntSource = Pick<Generator, 'int'>;

function like<T extends VoxelArray>(a: T, n: number): T {
  return new (a.constructor as new (n: number) => T)(n);
}

function checkLength(what: string, data: ArrayLike<number>, shape: readonly number[]) {
  const n = shape[0] * shape[1] * shape[2];
  if (data.length !== n) throw new Error(`voxgrad: ${what}: ${data.length} values for shape ${shape.join('×')}`);
}

/**
 * np.flip(np.rot90(vol, k, axes=(0, 1)), axis). rot90 turns axis 0 towards axis 1, so for k = 1
 * out[i, j] = vol[j, n1−1−i]; odd k swap the first two dimensions.
 */
export function rotFlip<T extends VoxelArray>(data: T, shape: readonly [number, number, number], k: number, axis: number): Shaped<T> {
  checkLength('rotFlip', data, shape);
  if (!Number.isInteger(k) || k < 0 || k > 3) throw new Error(`voxgrad: rotFlip: k must be 0, 1, 2 or 3, got ${k}`);
  if (axis !== 0 && axis !== 1) throw new Error(`voxgrad: rotFlip: flip axis must be 0 or 1, got ${axis}`);
  const [n0, n1, n2] = shape;
  const [m0, m1] = k % 2 ? [n1, n0] : [n0, n1];
  const out = like(data, data.length);
  for (let i = 0; i < m0; i++)
    for (let j = 0; j < m1; j++) {
      // Undo the flip, then the rotation, to find the source row of out[i, j, :].
      const r = axis === 0 ? m0 - 1 - i : i, c = axis === 1 ? m1 - 1 - j : j;
      const [a, b] = k === 0 ? [r, c] : k === 1 ? [c, n1 - 1 - r] : k === 2 ? [n0 - 1 - r, n1 - 1 - c] : [n0 - 1 - c, r];
      const src = (a * n1 + b) * n2;
      out.set(data.subarray(src, src + n2), (i * m1 + j) * n2);
    }
  return { data: out, shape: [m0, m1, n2] };
}

/**
 * RandomCrop's padding: when any dimension is ≤ the patch's, every axis is padded on both sides by
 * max((p − s)//2 + 3, 0) zeros. Returns the input itself when nothing is padded.
 */
export function padForCrop<T extends VoxelArray>(data: T, shape: readonly [number, number, number], patch: readonly [number, number, number]): Shaped<T> {
  checkLength('padForCrop', data, shape);
  if (!shape.some((s, a) => s <= patch[a])) return { data, shape: [...shape] };
  const pad = shape.map((s, a) => Math.max(Math.floor((patch[a] - s) / 2) + 3, 0));
  const [n0, n1, n2] = shape;
  const out: Shape3 = [n0 + 2 * pad[0], n1 + 2 * pad[1], n2 + 2 * pad[2]];
  const res = like(data, out[0] * out[1] * out[2]);
  for (let i = 0; i < n0; i++)
    for (let j = 0; j < n1; j++) {
      const src = (i * n1 + j) * n2;
      res.set(data.subarray(src, src + n2), ((i + pad[0]) * out[1] + j + pad[1]) * out[2] + pad[2]);
    }
  return { data: res, shape: out };
}

/** vol[o0:o0+p0, o1:o1+p1, o2:o2+p2]. */
export function crop<T extends VoxelArray>(data: T, shape: readonly [number, number, number], patch: readonly [number, number, number], offsets: readonly [number, number, number]): Shaped<T> {
  checkLength('crop', data, shape);
  for (let a = 0; a < 3; a++)
    if (!Number.isInteger(offsets[a]) || offsets[a] < 0 || offsets[a] + patch[a] > shape[a])
      throw new Error(`voxgrad: crop: patch ${patch.join('×')} at ${offsets.join(',')} does not fit in ${shape.join('×')}`);
  const [, n1, n2] = shape, [p0, p1, p2] = patch, [o0, o1, o2] = offsets;
  const res = like(data, p0 * p1 * p2);
  for (let i = 0; i < p0; i++)
    for (let j = 0; j < p1; j++) {
      const src = ((i + o0) * n1 + j + o1) * n2 + o2;
      res.set(data.subarray(src, src + p2), (i * p1 + j) * p2);
    }
  return { data: res, shape: [p0, p1, p2] };
}

export interface Pair<I extends VoxelArray, L extends VoxelArray> { image: I; label: L; shape: Shape3 }

function checkPair(what: string, image: VoxelArray, label: VoxelArray, shape: readonly number[]) {
  checkLength(`${what} image`, image, shape);
  checkLength(`${what} label`, label, shape);
}

/** RandomRotFlip: k = randint(0, 4), then axis = randint(0, 2), the same for image and label. */
export function randomRotFlip<I extends VoxelArray, L extends VoxelArray>(image: I, label: L, shape: readonly [number, number, number], g: IntSource): Pair<I, L> {
  checkPair('randomRotFlip', image, label, shape);
  const k = g.int(4), axis = g.int(2);
  const im = rotFlip(image, shape, k, axis);
  return { image: im.data, label: rotFlip(label, shape, k, axis).data, shape: im.shape };
}

/**
 * RandomCrop: padForCrop, then offsets randint(0, s − p) along axes 0, 1, 2. After padding every
 * s − p is at least 1, and, as in the reference, the last position s − p is never drawn.
 */
export function randomCrop<I extends VoxelArray, L extends VoxelArray>(image: I, label: L, shape: readonly [number, number, number], patch: readonly [number, number, number], g: IntSource): Pair<I, L> & { offsets: Shape3 } {
  checkPair('randomCrop', image, label, shape);
  const im = padForCrop(image, shape, patch), lb = padForCrop(label, shape, patch);
  const s = im.shape;
  const offsets: Shape3 = [g.int(s[0] - patch[0]), g.int(s[1] - patch[1]), g.int(s[2] - patch[2])];
  return { image: crop(im.data, s, patch, offsets).data, label: crop(lb.data, s, patch, offsets).data, shape: [...patch], offsets };
}
