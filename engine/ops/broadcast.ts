// Broadcasts (expand, repeat) and sums over axes: each is the other's gradient, so they share a file,
// below the elementwise ops, whose gradients sum broadcast axes away (sumTo).
import { record } from '../autograd.ts';
import type { Tensor } from '../tensor.ts';
import { broadcastStrides, contiguousStrides, normAxes, sameShape } from '../shape-arithmetic.ts';
import { reduceRaw } from './kernels.ts';
import { gather, reshape } from './shape.ts';

/** The reduced tensor `kept` (reduced axes of size 1) as the reduction returns it. */
export function reduced(kept: Tensor, x: Tensor, axes: number[], keepdim: boolean) {
  return keepdim ? kept : reshape(kept, x.shape.filter((_, i) => !axes.includes(i)));
}

export function sum(x: Tensor, axis?: number | number[], keepdim = false): Tensor {
  const axes = normAxes(axis, x.rank);
  const kept = record(reduceRaw('sum', x, axes), [x], 'sum', (g) => [expand(g, x.shape)]);
  return reduced(kept, x, axes, keepdim);
}

/** Sums a broadcast gradient back to `shape` (the inverse of broadcasting). */
export function sumTo(g: Tensor, shape: readonly number[]): Tensor {
  if (sameShape(g.shape, shape)) return g;
  const lead = g.rank - shape.length;
  const axes: number[] = [];
  g.shape.forEach((d, i) => {
    if (i < lead || (shape[i - lead] === 1 && d !== 1)) axes.push(i);
  });
  return reshape(sum(g, axes, true), shape);
}

/** Broadcasts x to `shape` (numpy rules), copying. */
export function expand(x: Tensor, shape: readonly number[]): Tensor {
  const out = gather(x, { offset: 0, strides: broadcastStrides(x.shape, shape) }, shape);
  return record(out, [x], 'expand', (g) => {
    const lead = shape.length - x.rank;
    const axes = shape.flatMap((d, i) => (i < lead || (x.shape[i - lead] === 1 && d !== 1) ? [i] : []));
    return [reshape(sum(g, axes, true), x.shape)];
  });
}

/** Tiles x `reps[i]` times along each axis (torch.Tensor.repeat). */
export function repeat(x: Tensor, reps: number[]): Tensor {
  if (reps.length < x.rank) throw new Error(`voxgrad: repeat needs at least ${x.rank} counts, got [${reps}]`);
  const src = [...Array(reps.length - x.rank).fill(1), ...x.shape];
  const strides = contiguousStrides(src);
  const interleaved = src.flatMap((d, i) => [reps[i], d]);
  const view = { offset: 0, strides: src.flatMap((_, i) => [0, strides[i]]) };
  const out = reshape(gather(x, view, interleaved), src.map((d, i) => d * reps[i]));
  return record(out, [x], 'repeat', (g) => {
    const summed = sum(reshape(g, interleaved), reps.map((_, i) => 2 * i));
    return [reshape(summed, x.shape)];
  });
}
