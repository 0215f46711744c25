// The V-Net of UA-MT, SSL4MIS and DTC (spec §2.1): four stride-2 downsamplings with 1/2/3/3/3
// convolutions per encoder stage, additive skips, Dropout3d(0.5) on the bottleneck and before the
// head(s). With heads 'seg+sdm' it is DTC's vnet_sdf: `out_conv` + tanh regresses the signed
// distance map and `out_conv2` gives the segmentation logits; with 'seg' the logits come from `out_conv`.
import { checkpoint } from '../engine/recompute.ts';
import { tanh } from '../engine/ops/elementwise.ts';
import { Generator } from '../engine/random.ts';
import type { Tensor } from '../engine/tensor.ts';
import { Conv3d } from './conv.ts';
import { Dropout3d } from './dropout.ts';
import { afterLastUse } from './last-use.ts';
import { Module } from './module.ts';
import type { Normalization } from './vnet-blocks.ts';
import { ConvBlock, DownBlock, UpBlock } from './vnet-blocks.ts';

export interface VNetOptions {
  nChannels: number;
  nClasses: number;
  nFilters?: number;
  normalization?: Normalization;
  hasDropout?: boolean;
  heads?: 'seg' | 'seg+sdm';
  /** Seeds the initial weights and then the dropout masks. */
  seed?: number;
}

export interface VNetForwardOptions {
  /** false switches dropout off for this call (the reference's turnoff_drop). */
  dropout?: boolean;
  /** Keep-masks [N·C] for the bottleneck and the last features, used instead of drawing them. */
  dropoutMasks?: [ArrayLike<number>, ArrayLike<number>];
}

export interface VNetOutput {
  /** Segmentation logits [N, nClasses, D, H, W]. */
  seg: Tensor;
  /** tanh of the SDM head [N, nClasses, D, H, W], with heads 'seg+sdm'. */
  sdm?: Tensor;
}

export class VNet extends Module {
  readonly config: Required<VNetOptions>;
  /** Draws the initial weights, then every dropout mask; its state belongs in training checkpoints. */
  readonly generator: Generator;
  private readonly encoder: (ConvBlock | DownBlock)[];
  private readonly decoder: (ConvBlock | UpBlock)[];
  private readonly outConv: Conv3d;
  private readonly outConv2: Conv3d | null;
  private readonly dropout: Dropout3d;
  /**
   * Run each block as an activation checkpoint (engine/recompute.ts) while a tape records: its
   * intermediates are recomputed in backward instead of kept. Same results, less memory, more time.
   */
  checkpointBlocks = false;

  constructor(opts: VNetOptions) {
    super();
    const c: Required<VNetOptions> = { nFilters: 16, normalization: 'batchnorm', hasDropout: false, heads: 'seg',
                                       seed: 0, ...opts };
    for (const k of ['nChannels', 'nClasses', 'nFilters'] as const) {
      if (!Number.isInteger(c[k]) || c[k] < 1) throw new Error(`voxgrad: VNet ${k} must be a positive integer, got ${c[k]}`);
    }
    if (c.heads !== 'seg' && c.heads !== 'seg+sdm') throw new Error(`voxgrad: VNet heads '${c.heads}' is not 'seg' or 'seg+sdm'`);
    this.config = c;
    const g = this.generator = new Generator(c.seed);
    const f = c.nFilters, norm = c.normalization;
    const block = (name: string, m: ConvBlock | DownBlock | UpBlock) => this.registerModule(name, m);
    this.encoder = [
      block('block_one', new ConvBlock(1, c.nChannels, f, norm, g)),
      block('block_one_dw', new DownBlock(f, 2 * f, norm, g)),
      block('block_two', new ConvBlock(2, 2 * f, 2 * f, norm, g)),
      block('block_two_dw', new DownBlock(2 * f, 4 * f, norm, g)),
      block('block_three', new ConvBlock(3, 4 * f, 4 * f, norm, g)),
      block('block_three_dw', new DownBlock(4 * f, 8 * f, norm, g)),
      block('block_four', new ConvBlock(3, 8 * f, 8 * f, norm, g)),
      block('block_four_dw', new DownBlock(8 * f, 16 * f, norm, g)),
      block('block_five', new ConvBlock(3, 16 * f, 16 * f, norm, g)),
    ];
    this.decoder = [
      block('block_five_up', new UpBlock(16 * f, 8 * f, norm, g)),
      block('block_six', new ConvBlock(3, 8 * f, 8 * f, norm, g)),
      block('block_six_up', new UpBlock(8 * f, 4 * f, norm, g)),
      block('block_seven', new ConvBlock(3, 4 * f, 4 * f, norm, g)),
      block('block_seven_up', new UpBlock(4 * f, 2 * f, norm, g)),
      block('block_eight', new ConvBlock(2, 2 * f, 2 * f, norm, g)),
      block('block_eight_up', new UpBlock(2 * f, f, norm, g)),
      block('block_nine', new ConvBlock(1, f, f, norm, g)),
    ];
    this.outConv = this.registerModule('out_conv', new Conv3d(f, c.nClasses, 1, { generator: g }));
    this.outConv2 = c.heads === 'seg+sdm' ? this.registerModule('out_conv2', new Conv3d(f, c.nClasses, 1, { generator: g })) : null;
    this.dropout = this.registerModule('dropout', new Dropout3d(0.5, g));
  }

  forward(x: Tensor, opts: VNetForwardOptions = {}): VNetOutput {
    this.checkInput(x);
    const drop = this.config.hasDropout && this.training && (opts.dropout ?? true);
    const maybeDrop = (h: Tensor, i: number) => (drop ? this.dropout.forward(h, opts.dropoutMasks?.[i]) : h);
    // Encoder: the convolution stages (even indices) before the bottleneck give x1…x4, the skips.
    const skips: Tensor[] = [];
    let h = x;
    // a skip stays until its decoder stage has added it
    const step = (next: Tensor) => {
      if (!skips.includes(h)) afterLastUse(h, next, x);
      h = next;
    };
    const run = (m: ConvBlock | DownBlock | UpBlock, input: Tensor, residual?: Tensor) =>
      this.checkpointBlocks
        ? checkpoint((a, r) => m.forward(a, r), residual ? [input, residual] : [input], m.parameters())
        : m.forward(input, residual);
    this.encoder.forEach((m, i) => {
      step(run(m, h));
      if (i % 2 === 0 && i < 8) skips.push(h);
    });
    step(maybeDrop(h, 0));
    // Decoder: each up-convolution (even indices) adds the encoder output of its resolution, after its ReLU.
    this.decoder.forEach((m, i) => {
      const skip = i % 2 === 0 ? skips.pop() : undefined;
      step(run(m, h, skip));
      if (skip) afterLastUse(skip, h, x);
    });
    step(maybeDrop(h, 1));
    if (!this.outConv2) {
      const seg = this.outConv.forward(h);
      afterLastUse(h, seg, x);
      return { seg };
    }
    const seg = this.outConv2.forward(h), sdmLogits = this.outConv.forward(h);
    afterLastUse(h, seg, x);
    const sdm = tanh(sdmLogits);
    afterLastUse(sdmLogits, sdm, x);
    return { seg, sdm };
  }

  private checkInput(x: Tensor) {
    const { nChannels } = this.config;
    if (x.rank !== 5 || x.shape[1] !== nChannels) {
      throw new Error(`voxgrad: VNet needs input [N, ${nChannels}, D, H, W], got [${x.shape}]`);
    }
    const spatial = x.shape.slice(2);
    if (spatial.some((s) => s % 16 !== 0)) {
      throw new Error(`voxgrad: VNet input size ${spatial.join('×')} is not divisible by 16 in every dimension ` +
                      '(four 2× downsamplings); pad or crop it');
    }
  }
}
