// Reductions over any set of axes, decomposed into the backend's single-range reduce (kernels.ts);
// sum lives with the broadcasts, its gradients (broadcast.ts).
import { record } from '../autograd.ts';
import type { Tensor } from '../tensor.ts';
import { normAxes } from '../shape-arithmetic.ts';
import { reduced, sum } from './broadcast.ts';
import { div, eq, mul } from './elementwise.ts';
import { reduceRaw } from './kernels.ts';
import { reshape } from './shape.ts';

export { sum };

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
  return reduced(kept, x, axes, keepdim);
}

/** Index of the first maximum along one axis (all axes flattened when none is given), as floats. */
export function argmax(x: Tensor, axis?: number, keepdim = false): Tensor {
  if (axis === undefined) return reshape(reduceRaw('argmax', reshape(x, [x.size]), [0]), keepdim ? x.shape.map(() => 1) : []);
  const axes = normAxes(axis, x.rank);
  return reduced(reduceRaw('argmax', x, axes), x, axes, keepdim);
}
