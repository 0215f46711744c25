// Losses with PyTorch's default (mean) reduction.
import type { Tensor } from '../tensor.ts';
import { arange } from './create.ts';
import { div, eq, mul, neg, square, sub } from './elementwise.ts';
import { mean, sum } from './reduce.ts';
import { logSoftmax } from './softmax.ts';
import { reshape, unsqueeze } from './shape.ts';

/**
 * Cross-entropy of logits [N, C, …] against class indices [N, …] (stored as floats), averaged
 * over every position.
 */
export function crossEntropy(logits: Tensor, target: Tensor): Tensor {
  const [n, c] = logits.shape;
  const expected = [n, ...logits.shape.slice(2)];
  if (target.shape.join() !== expected.join()) {
    throw new Error(`voxgrad: crossEntropy target shape [${target.shape}] should be [${expected}] for logits [${logits.shape}]`);
  }
  const classes = reshape(arange(c, logits.backend), [1, c, ...expected.slice(1).map(() => 1)]);
  const oneHot = eq(unsqueeze(target, 1), classes);
  return neg(div(sum(mul(oneHot, logSoftmax(logits, 1))), target.size));
}

export function mse(a: Tensor, b: Tensor): Tensor {
  return mean(square(sub(a, b)));
}
