// nn.Conv3d and nn.ConvTranspose3d: the layers over the engine's convolution ops, with PyTorch's
// parameter names, weight layouts and default initialisation.
import { conv3d, convTranspose3d } from '../engine/ops/conv.ts';
import { Generator } from '../engine/random.ts';
import type { Tensor } from '../engine/tensor.ts';
import { convInit } from './init.ts';
import { Module } from './module.ts';

export interface ConvLayerOptions {
  stride?: number;
  padding?: number;
  bias?: boolean;
  /** Draws the initial weights; a fresh Generator(0) when omitted. */
  generator?: Generator;
}

function cube(k: number): [number, number, number] {
  if (!Number.isInteger(k) || k < 1) throw new Error(`voxgrad: kernel size ${k} is not a positive integer`);
  return [k, k, k];
}

/** What both layers share: PyTorch-initialised weight and bias, stride and padding. */
abstract class ConvLayer extends Module {
  readonly weight: Tensor;
  readonly bias: Tensor | null;
  readonly stride: number;
  readonly padding: number;

  /** `leading` is the weight's first two sizes: [Cout, Cin] for Conv3d, [Cin, Cout] transposed. */
  protected constructor(leading: [number, number], outChannels: number, kernelSize: number, opts: ConvLayerOptions) {
    super();
    this.stride = opts.stride ?? 1;
    this.padding = opts.padding ?? 0;
    const init = convInit([...leading, ...cube(kernelSize)], opts.bias ?? true ? outChannels : null,
                         opts.generator ?? new Generator(0));
    this.weight = this.registerParameter('weight', init.weight);
    this.bias = init.bias && this.registerParameter('bias', init.bias);
  }

  protected get options() {
    return { stride: this.stride, padding: this.padding };
  }
}

/** x [N, Cin, D, H, W] → [N, Cout, …]; weight [Cout, Cin, k, k, k]. */
export class Conv3d extends ConvLayer {
  constructor(readonly inChannels: number, readonly outChannels: number, kernelSize: number, opts: ConvLayerOptions = {}) {
    super([outChannels, inChannels], outChannels, kernelSize, opts);
  }

  forward(x: Tensor): Tensor {
    return conv3d(x, this.weight, this.bias ?? undefined, this.options);
  }
}

/** The adjoint of Conv3d as a layer; weight [Cin, Cout, k, k, k] as in PyTorch. */
export class ConvTranspose3d extends ConvLayer {
  constructor(readonly inChannels: number, readonly outChannels: number, kernelSize: number, opts: ConvLayerOptions = {}) {
    super([inChannels, outChannels], outChannels, kernelSize, opts);
  }

  forward(x: Tensor): Tensor {
    return convTranspose3d(x, this.weight, this.bias ?? undefined, this.options);
  }
}
