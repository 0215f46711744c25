// Shape ops. reshape shares storage; the others materialise a strided view with the backend's copy.
// The broadcasts, whose gradients are sums, are broadcast.ts's.
import type { View } from '../backend.ts';
import { record } from '../autograd.ts';
import { empty, shareStorage, Tensor } from '../tensor.ts';
import { contiguousStrides, normAxes, normAxis, sizeOf } from '../shape-arithmetic.ts';
import { full } from './create.ts';

const contiguous = (shape: readonly number[]): View => ({ offset: 0, strides: contiguousStrides(shape) });

/** A new tensor holding x read through `view` over the index space `shape`. */
export function gather(x: Tensor, view: View, shape: readonly number[]): Tensor {
  const out = empty(shape, x.backend);
  x.backend.copy(x.buf, view, out.buf, contiguous(shape), shape.slice());
  return out;
}

export function reshape(x: Tensor, shape: readonly number[]): Tensor {
  const known = shape.filter((d) => d !== -1);
  const inferred = shape.length - known.length;
  if (inferred > 1) throw new Error(`voxgrad: reshape [${shape}] has more than one -1`);
  const full = inferred ? shape.map((d) => (d === -1 ? x.size / sizeOf(known) : d)) : shape.slice();
  if (sizeOf(full) !== x.size || full.some((d) => !Number.isInteger(d))) {
    throw new Error(`voxgrad: cannot reshape [${x.shape}] to [${shape}]`);
  }
  return record(shareStorage(x, full), [x], 'reshape', (g) => [reshape(g, x.shape)]);
}

export function unsqueeze(x: Tensor, axis: number): Tensor {
  const a = normAxis(axis, x.rank + 1);
  return reshape(x, [...x.shape.slice(0, a), 1, ...x.shape.slice(a)]);
}

export function squeeze(x: Tensor, axis?: number): Tensor {
  const axes = axis === undefined ? x.shape.flatMap((d, i) => (d === 1 ? [i] : [])) : [normAxis(axis, x.rank)];
  return reshape(x, x.shape.filter((d, i) => !(axes.includes(i) && d === 1)));
}

export function permute(x: Tensor, perm: number[]): Tensor {
  if (perm.length !== x.rank || new Set(perm.map((p) => normAxis(p, x.rank))).size !== x.rank) {
    throw new Error(`voxgrad: permute [${perm}] is not a permutation of ${x.rank} axes`);
  }
  const p = perm.map((a) => normAxis(a, x.rank));
  const strides = contiguousStrides(x.shape);
  const out = gather(x, { offset: 0, strides: p.map((a) => strides[a]) }, p.map((a) => x.shape[a]));
  const inverse = p.map((_, i) => p.indexOf(i));
  return record(out, [x], 'permute', (g) => [permute(g, inverse)]);
}

export function transpose(x: Tensor, a = -2, b = -1): Tensor {
  const perm = [...x.shape.keys()];
  const i = normAxis(a, x.rank), j = normAxis(b, x.rank);
  [perm[i], perm[j]] = [perm[j], perm[i]];
  return permute(x, perm);
}

export type Range = [start: number, end: number, step?: number] | null;

/**
 * Python-style slicing, one range per leading axis (null or missing: the whole axis). Negative
 * start/end count from the end; steps are positive.
 */
export function slice(x: Tensor, ranges: Range[]): Tensor {
  const strides = contiguousStrides(x.shape);
  let offset = 0;
  const shape: number[] = [], viewStrides: number[] = [];
  x.shape.forEach((d, i) => {
    const r = ranges[i];
    const step = r?.[2] ?? 1;
    if (step < 1) throw new Error(`voxgrad: slice step must be positive, got ${step}`);
    const clampIdx = (v: number) => Math.min(Math.max(v < 0 ? v + d : v, 0), d);
    const start = r ? clampIdx(r[0]) : 0, end = r ? clampIdx(r[1]) : d;
    offset += start * strides[i];
    shape.push(Math.max(0, Math.ceil((end - start) / step)));
    viewStrides.push(strides[i] * step);
  });
  const view = { offset, strides: viewStrides };
  return record(gather(x, view, shape), [x], 'slice', (g) => {
    const gx = full(x.shape, 0, x.backend);
    x.backend.copy(g.buf, contiguous(shape), gx.buf, view, shape);
    return [gx];
  });
}

/** Pads each leading axis by [before, after] with a constant (axes in order, unlike torch's F.pad). */
export function pad(x: Tensor, pads: [number, number][], value = 0): Tensor {
  const p = x.shape.map((_, i) => pads[i] ?? [0, 0]);
  if (p.some(([a, b]) => a < 0 || b < 0)) throw new Error(`voxgrad: negative padding ${JSON.stringify(pads)}`);
  const shape = x.shape.map((d, i) => d + p[i][0] + p[i][1]);
  const out = full(shape, value, x.backend);
  const strides = contiguousStrides(shape);
  const offset = p.reduce((o, [before], i) => o + before * strides[i], 0);
  x.backend.copy(x.buf, contiguous(x.shape), out.buf, { offset, strides }, x.shape.slice());
  return record(out, [x], 'pad', (g) => [slice(g, p.map(([before], i) => [before, before + x.shape[i]]))]);
}

export function concat(xs: Tensor[], axis: number): Tensor {
  if (xs.length === 0) throw new Error('voxgrad: concat of no tensors');
  const a = normAxis(axis, xs[0].rank);
  for (const t of xs) {
    if (t.rank !== xs[0].rank || t.shape.some((d, i) => i !== a && d !== xs[0].shape[i])) {
      throw new Error(`voxgrad: concat along ${a} of shapes ${xs.map((t) => `[${t.shape}]`).join(', ')}`);
    }
  }
  const shape = xs[0].shape.slice();
  shape[a] = xs.reduce((n, t) => n + t.shape[a], 0);
  const out = empty(shape, xs[0].backend);
  const strides = contiguousStrides(shape);
  let at = 0;
  const starts = xs.map((t) => {
    xs[0].backend.copy(t.buf, contiguous(t.shape), out.buf, { offset: at * strides[a], strides }, t.shape.slice());
    at += t.shape[a];
    return at - t.shape[a];
  });
  return record(out, xs, 'concat', (g) =>
    xs.map((t, i) => slice(g, shape.map((d, k) => (k === a ? [starts[i], starts[i] + t.shape[a]] : [0, d])))));
}

export function flip(x: Tensor, axes: number | number[]): Tensor {
  const list = normAxes(axes, x.rank);
  const strides = contiguousStrides(x.shape);
  let offset = 0;
  const viewStrides = strides.map((s, i) => {
    if (!list.includes(i)) return s;
    offset += (x.shape[i] - 1) * s;
    return -s;
  });
  return record(gather(x, { offset, strides: viewStrides }, x.shape), [x], 'flip', (g) => [flip(g, list)]);
}

/** Rotates by k·90° in the plane of two axes, from the first towards the second (torch.rot90). */
export function rot90(x: Tensor, k = 1, axes: [number, number] = [0, 1]): Tensor {
  const [a, b] = [normAxis(axes[0], x.rank), normAxis(axes[1], x.rank)];
  if (a === b) throw new Error('voxgrad: rot90 needs two different axes');
  const turns = ((k % 4) + 4) % 4;
  if (turns === 0) return reshape(x, x.shape);
  if (turns === 2) return flip(x, [a, b]);
  const swap = [...x.shape.keys()];
  [swap[a], swap[b]] = [swap[b], swap[a]];
  return turns === 1 ? permute(flip(x, b), swap) : flip(permute(x, swap), b);
}
