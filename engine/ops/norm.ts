// Batch, instance and group normalisation over the channel axis 1, each as per-channel moments and one
// fused epilogue x·scale + shift (channel.ts), with scale = γ/√(var + eps) and shift = β − mean·scale
// computed on [channels]-sized tensors, so gradients flow through mean and variance exactly. The
// epilogue optionally applies ReLU and adds a residual, which the V-Net's blocks use.
import { isReplaying, noGrad } from '../autograd.ts';
import { scope } from '../memory.ts';
import type { Tensor } from '../tensor.ts';
import { add, div, mul, neg, sqrt, sub } from './elementwise.ts';
import { channelAffine, type ChannelAffineOptions, type ChannelView, normalizeChannels } from './channel.ts';
import { expand } from './broadcast.ts';
import { reshape } from './shape.ts';

export type NormEpilogue = ChannelAffineOptions;

export interface BatchNormOptions extends NormEpilogue {
  training?: boolean;
  momentum?: number;
  eps?: number;
}

/** scale = weight/√(variance + eps) and shift = bias − mean·scale, all of one shape. */
function scaleShift(mean: Tensor, variance: Tensor, eps: number, weight?: Tensor, bias?: Tensor) {
  const invStd = div(1, sqrt(add(variance, eps)));
  const scale = weight ? mul(weight, invStd) : invStd;
  const meanScaled = mul(mean, scale);
  return { scale, shift: bias ? sub(bias, meanScaled) : neg(meanScaled) };
}

function checkParam(op: string, what: string, t: Tensor | undefined, c: number) {
  if (t && t.size !== c) throw new Error(`voxgrad: ${op} needs ${c} values of ${what}, got [${t.shape}]`);
}

/**
 * PyTorch's batch_norm: in training, batch statistics (biased variance) normalise x and the
 * running statistics move by `momentum` towards the batch mean and the unbiased variance; in eval,
 * the running statistics normalise x. `relu` and `residual` fuse relu(·) + residual into the output.
 */
export function batchNorm(x: Tensor, weight?: Tensor, bias?: Tensor, runningMean?: Tensor, runningVar?: Tensor,
                          opts: BatchNormOptions = {}): Tensor {
  const { training = true, momentum = 0.1, eps = 1e-5, ...epilogue } = opts;
  if (x.rank < 2) throw new Error(`voxgrad: batchNorm needs [N, C, …], got [${x.shape}]`);
  const c = x.shape[1];
  const v: ChannelView = { n: x.shape[0], c, vol: x.size / (x.shape[0] * c || 1) };
  for (const [what, t] of [['weight', weight], ['bias', bias], ['runningMean', runningMean], ['runningVar', runningVar]] as const) {
    checkParam('batchNorm', what, t, c);
  }
  const flat = (t: Tensor | undefined) => (t ? reshape(t, [c]) : undefined);
  [weight, bias] = [flat(weight), flat(bias)];
  if (!training) {
    if (!runningMean || !runningVar) throw new Error('voxgrad: batchNorm in eval mode needs running statistics');
    const { scale, shift } = scaleShift(reshape(runningMean, [c]), reshape(runningVar, [c]), eps, weight, bias);
    return channelAffine(x, scale, shift, v, epilogue);
  }
  const count = v.n * v.vol;
  if (count < 2) throw new Error(`voxgrad: batchNorm in training needs more than one value per channel, got [${x.shape}]`);
  return normalizeChannels(x, v, (mean, variance) => {
    // a checkpoint's replay sees the same batch again: the statistics moved the first time
    if (!isReplaying()) noGrad(() => scope(() => {
      if (runningMean) runningMean.assign(reshape(add(mul(runningMean, 1 - momentum), mul(mean, momentum)), runningMean.shape));
      if (runningVar) {
        const unbiased = mul(variance, count / (count - 1));
        runningVar.assign(reshape(add(mul(runningVar, 1 - momentum), mul(unbiased, momentum)), runningVar.shape));
      }
    }));
    return scaleShift(mean, variance, eps, weight, bias);
  }, epilogue);
}

export const batchNorm3d = batchNorm;

/**
 * Normalises each of `groups·n` slices of x [n, groups·per, …] alone and applies a per-channel
 * weight and bias: group norm, and instance norm with per = 1.
 */
function sliceNorm(x: Tensor, groups: number, eps: number, weight: Tensor | undefined, bias: Tensor | undefined,
                   epilogue: NormEpilogue): Tensor {
  const [n, c] = x.shape;
  const per = c / groups;
  // mean and 1/std per (sample, group) against weight and bias per (group, channel in group)
  const slices = [n, groups, 1], channels = [1, groups, per], full = [n, groups, per];
  const flat = (t: Tensor) => reshape(t.shape.join() === full.join() ? t : expand(t, full), [n * c]);
  return normalizeChannels(x, { n: 1, c: n * groups, vol: x.size / (n * groups) }, (mean, variance) => {
    const { scale, shift } = scaleShift(reshape(mean, slices), reshape(variance, slices), eps,
                                        weight ? reshape(weight, channels) : undefined,
                                        bias ? reshape(bias, channels) : undefined);
    return { scale: flat(scale), shift: flat(shift) };
  }, epilogue, { n: 1, c: n * c, vol: x.size / (n * c) });
}

/** PyTorch's instance_norm without running statistics: each (sample, channel) normalised alone. */
export function instanceNorm3d(x: Tensor, weight?: Tensor, bias?: Tensor, opts: { eps?: number } & NormEpilogue = {}): Tensor {
  if (x.rank !== 5) throw new Error(`voxgrad: instanceNorm3d needs [N, C, D, H, W], got [${x.shape}]`);
  const { eps = 1e-5, ...epilogue } = opts;
  checkParam('instanceNorm3d', 'weight', weight, x.shape[1]);
  checkParam('instanceNorm3d', 'bias', bias, x.shape[1]);
  return sliceNorm(x, x.shape[1], eps, weight, bias, epilogue);
}

/** PyTorch's group_norm: channels split into `groups`, each (sample, group) normalised alone. */
export function groupNorm(x: Tensor, groups: number, weight?: Tensor, bias?: Tensor,
                          opts: { eps?: number } & NormEpilogue = {}): Tensor {
  if (x.rank < 2) throw new Error(`voxgrad: groupNorm needs [N, C, …], got [${x.shape}]`);
  const c = x.shape[1];
  if (!Number.isInteger(groups) || groups < 1 || c % groups !== 0) {
    throw new Error(`voxgrad: groupNorm: ${c} channels not divisible into ${groups} groups`);
  }
  const { eps = 1e-5, ...epilogue } = opts;
  checkParam('groupNorm', 'weight', weight, c);
  checkParam('groupNorm', 'bias', bias, c);
  return sliceNorm(x, groups, eps, weight, bias, epilogue);
}
