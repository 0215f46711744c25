// Normalisation layers with PyTorch's parameters, buffers and defaults (eps 1e-5, momentum 0.1).
import { isReplaying, noGrad } from '../engine/autograd.ts';
import { scope } from '../engine/memory.ts';
import { ones, zeros } from '../engine/ops/create.ts';
import { add } from '../engine/ops/elementwise.ts';
import { batchNorm, groupNorm, instanceNorm3d, type NormEpilogue } from '../engine/ops/norm.ts';
import type { Tensor } from '../engine/tensor.ts';
import { Module } from './module.ts';

function checkChannels(layer: string, x: Tensor, channels: number) {
  if (x.rank !== 5 || x.shape[1] !== channels) {
    throw new Error(`voxgrad: ${layer}(${channels}) needs input [N, ${channels}, D, H, W], got [${x.shape}]`);
  }
}

export interface NormLayerOptions {
  eps?: number;
}

/**
 * Batch statistics in train mode, moving the running ones by `momentum` (PyTorch's convention:
 * new = (1 − momentum)·old + momentum·batch); running statistics in eval mode.
 */
export class BatchNorm3d extends Module {
  readonly weight: Tensor;
  readonly bias: Tensor;
  readonly runningMean: Tensor;
  readonly runningVar: Tensor;
  /** Counts training batches; int64 in checkpoints, as in PyTorch. */
  readonly numBatchesTracked: Tensor;
  readonly eps: number;
  readonly momentum: number;

  constructor(readonly numFeatures: number, opts: NormLayerOptions & { momentum?: number } = {}) {
    super();
    this.eps = opts.eps ?? 1e-5;
    this.momentum = opts.momentum ?? 0.1;
    this.weight = this.registerParameter('weight', ones([numFeatures]));
    this.bias = this.registerParameter('bias', zeros([numFeatures]));
    this.runningMean = this.registerBuffer('running_mean', zeros([numFeatures]));
    this.runningVar = this.registerBuffer('running_var', ones([numFeatures]));
    this.numBatchesTracked = this.registerBuffer('num_batches_tracked', zeros([]), 'I64');
  }

  /** `epilogue` fuses a following ReLU and a residual add into the normalisation's output pass. */
  forward(x: Tensor, epilogue: NormEpilogue = {}): Tensor {
    checkChannels('BatchNorm3d', x, this.numFeatures);
    const y = batchNorm(x, this.weight, this.bias, this.runningMean, this.runningVar,
                        { training: this.training, momentum: this.momentum, eps: this.eps, ...epilogue });
    if (this.training && !isReplaying()) noGrad(() => scope(() => this.numBatchesTracked.assign(add(this.numBatchesTracked, 1))));
    return y;
  }
}

/** PyTorch's InstanceNorm3d defaults: no affine parameters, no running statistics. */
export class InstanceNorm3d extends Module {
  readonly eps: number;

  constructor(readonly numFeatures: number, opts: NormLayerOptions = {}) {
    super();
    this.eps = opts.eps ?? 1e-5;
  }

  forward(x: Tensor, epilogue: NormEpilogue = {}): Tensor {
    checkChannels('InstanceNorm3d', x, this.numFeatures);
    return instanceNorm3d(x, undefined, undefined, { eps: this.eps, ...epilogue });
  }
}

/** Channels split into groups, each (sample, group) normalised alone; per-channel weight and bias. */
export class GroupNorm extends Module {
  readonly weight: Tensor;
  readonly bias: Tensor;
  readonly eps: number;

  constructor(readonly numGroups: number, readonly numChannels: number, opts: NormLayerOptions = {}) {
    super();
    if (numChannels % numGroups !== 0) {
      throw new Error(`voxgrad: GroupNorm: ${numChannels} channels cannot be split into ${numGroups} groups`);
    }
    this.eps = opts.eps ?? 1e-5;
    this.weight = this.registerParameter('weight', ones([numChannels]));
    this.bias = this.registerParameter('bias', zeros([numChannels]));
  }

  forward(x: Tensor, epilogue: NormEpilogue = {}): Tensor {
    checkChannels('GroupNorm', x, this.numChannels);
    return groupNorm(x, this.numGroups, this.weight, this.bias, { eps: this.eps, ...epilogue });
  }
}
