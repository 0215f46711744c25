// Batch and instance normalisation over the channel axis 1, composed from elementwise ops and
// reductions (so their gradients are exact by construction).
import { noGrad } from '../autograd.ts';
import { scope } from '../memory.ts';
import type { Tensor } from '../tensor.ts';
import { add, div, mul, sqrt, square, sub } from './elementwise.ts';
import { mean } from './reduce.ts';
import { reshape } from './shape.ts';

export interface BatchNormOptions {
  training?: boolean;
  momentum?: number;
  eps?: number;
}

function perChannel(t: Tensor, rank: number) {
  return reshape(t, [1, t.size, ...Array(rank - 2).fill(1)]);
}

function normalize(x: Tensor, axes: number[], eps: number) {
  const mu = mean(x, axes, true);
  const centered = sub(x, mu);
  const variance = mean(square(centered), axes, true);
  return { mu, variance, xhat: div(centered, sqrt(add(variance, eps))) };
}

function affine(xhat: Tensor, weight: Tensor | undefined, bias: Tensor | undefined) {
  const scaled = weight ? mul(xhat, perChannel(weight, xhat.rank)) : xhat;
  return bias ? add(scaled, perChannel(bias, xhat.rank)) : scaled;
}

/**
 * PyTorch's batch_norm: in training, batch statistics (biased variance) normalise x and the
 * running statistics move by `momentum` towards the batch mean and the unbiased variance; in eval,
 * the running statistics normalise x.
 */
export function batchNorm(x: Tensor, weight?: Tensor, bias?: Tensor, runningMean?: Tensor, runningVar?: Tensor,
                          opts: BatchNormOptions = {}): Tensor {
  const { training = true, momentum = 0.1, eps = 1e-5 } = opts;
  if (x.rank < 2) throw new Error(`voxgrad: batchNorm needs [N, C, …], got [${x.shape}]`);
  const axes = [0, ...Array.from({ length: x.rank - 2 }, (_, i) => i + 2)];
  if (!training) {
    if (!runningMean || !runningVar) throw new Error('voxgrad: batchNorm in eval mode needs running statistics');
    const xhat = div(sub(x, perChannel(runningMean, x.rank)), sqrt(add(perChannel(runningVar, x.rank), eps)));
    return affine(xhat, weight, bias);
  }
  const { mu, variance, xhat } = normalize(x, axes, eps);
  const count = x.size / x.shape[1];
  if (count < 2) throw new Error(`voxgrad: batchNorm in training needs more than one value per channel, got [${x.shape}]`);
  noGrad(() => scope(() => {
    if (runningMean) runningMean.assign(add(mul(runningMean, 1 - momentum), mul(reshape(mu, [x.shape[1]]), momentum)));
    if (runningVar) {
      const unbiased = mul(reshape(variance, [x.shape[1]]), count / (count - 1));
      runningVar.assign(add(mul(runningVar, 1 - momentum), mul(unbiased, momentum)));
    }
  }));
  return affine(xhat, weight, bias);
}

export const batchNorm3d = batchNorm;

/** PyTorch's instance_norm without running statistics: each (sample, channel) normalised alone. */
export function instanceNorm3d(x: Tensor, weight?: Tensor, bias?: Tensor, opts: { eps?: number } = {}): Tensor {
  if (x.rank !== 5) throw new Error(`voxgrad: instanceNorm3d needs [N, C, D, H, W], got [${x.shape}]`);
  return affine(normalize(x, [2, 3, 4], opts.eps ?? 1e-5).xhat, weight, bias);
}

/** PyTorch's group_norm: channels split into `groups`, each (sample, group) normalised alone. */
export function groupNorm(x: Tensor, groups: number, weight?: Tensor, bias?: Tensor, opts: { eps?: number } = {}): Tensor {
  const [n, c] = x.shape;
  if (c % groups !== 0) throw new Error(`voxgrad: groupNorm: ${c} channels not divisible into ${groups} groups`);
  const grouped = reshape(x, [n, groups, -1]);
  const { xhat } = normalize(grouped, [2], opts.eps ?? 1e-5);
  return affine(reshape(xhat, x.shape), weight, bias);
}
