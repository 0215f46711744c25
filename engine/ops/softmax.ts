// Softmax and log-softmax, stabilised by the (constant) maximum; gradients follow by composition.
import { noGrad } from '../autograd.ts';
import type { Tensor } from '../tensor.ts';
import { div, exp, log, sub } from './elementwise.ts';
import { max, sum } from './reduce.ts';

export function softmax(x: Tensor, axis = -1): Tensor {
  const m = noGrad(() => max(x, axis, true));
  const e = exp(sub(x, m));
  return div(e, sum(e, axis, true));
}

export function logSoftmax(x: Tensor, axis = -1): Tensor {
  const m = noGrad(() => max(x, axis, true));
  const z = sub(x, m);
  return sub(z, log(sum(exp(z), axis, true)));
}
