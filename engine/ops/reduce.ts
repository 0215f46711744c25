// Reductions over any set of axes, decomposed into the backend's single-range reduce.
import type { ReduceOp } from '../backend.ts';
import { noGrad, record } from '../autograd.ts';
import { empty, Tensor } from '../tensor.ts';
import { normAxes, sameShape, sizeOf } from '../shape-arithmetic.ts';
import { div, eq, mul } from './elementwise.ts';
import { expand, reshape } from './shape.ts';

/** Runs of consecutive axes, last run first (reducing it leaves earlier offsets valid). */
function axisRuns(axes: number[]): [number, number][] {
  const runs: [number, number][] = [];
  for (const a of axes) {
    const last = runs[runs.length - 1];
    if (last && last[1] === a) last[1] = a + 1;
    else runs.push([a, a + 1]);
  }
  return runs.reverse();
}

function reduceRaw(op: ReduceOp | 'argmax', x: Tensor, axes: number[]): Tensor {
  let cur = x;
  let shape = x.shape.slice();
  for (const [start, end] of axisRuns(axes)) {
    const outer = sizeOf(shape.slice(0, start)), r = sizeOf(shape.slice(start, end)), inner = sizeOf(shape.slice(end));
    shape = shape.map((d, i) => (i >= start && i < end ? 1 : d));
    const out = empty(shape, x.backend);
    if (op === 'argmax') x.backend.argmax(cur.buf, out.buf, outer, r, inner);
    else x.backend.reduce(op, cur.buf, out.buf, outer, r, inner);
    if (cur !== x) cur.dispose();
    cur = out;
  }
  return cur === x ? reshape(noGrad(() => mul(x, 1)), shape) : cur;
}

function finish(kept: Tensor, x: Tensor, axes: number[], keepdim: boolean) {
  return keepdim ? kept : reshape(kept, x.shape.filter((_, i) => !axes.includes(i)));
}

export function sum(x: Tensor, axis?: number | number[], keepdim = false): Tensor {
  const axes = normAxes(axis, x.rank);
  const kept = record(reduceRaw('sum', x, axes), [x], 'sum', (g) => [expand(g, x.shape)]);
  return finish(kept, x, axes, keepdim);
}

export function mean(x: Tensor, axis?: number | number[], keepdim = false): Tensor {
  const axes = normAxes(axis, x.rank);
  const count = axes.reduce((n, a) => n * x.shape[a], 1);
  return div(sum(x, axes, keepdim), count);
}

/** Maximum over axes; the gradient is shared equally among tied maxima (torch.amax). */
export function max(x: Tensor, axis?: number | number[], keepdim = false): Tensor {
  const axes = normAxes(axis, x.rank);
  const m = reduceRaw('max', x, axes);
  const kept = record(m, [x], 'max', (g) => {
    const mask = eq(x, m);
    return [mul(mask, div(g, reduceRaw('sum', mask, axes)))];
  });
  return finish(kept, x, axes, keepdim);
}

/** Index of the first maximum along one axis (all axes flattened when none is given), as floats. */
export function argmax(x: Tensor, axis?: number, keepdim = false): Tensor {
  if (axis === undefined) return reshape(reduceRaw('argmax', reshape(x, [x.size]), [0]), keepdim ? x.shape.map(() => 1) : []);
  const axes = normAxes(axis, x.rank);
  return finish(reduceRaw('argmax', x, axes), x, axes, keepdim);
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
