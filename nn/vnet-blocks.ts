// The three building blocks of the UA-MT/DTC V-Net, each a Sequential named `conv` so that parameter
// names read block.conv.<index>.… exactly as in the PyTorch reference.
import { add } from '../engine/ops/elementwise.ts';
import type { Generator } from '../engine/random.ts';
import type { Tensor } from '../engine/tensor.ts';
import { ReLU } from './activation.ts';
import { Conv3d, ConvTranspose3d } from './conv.ts';
import { afterLastUse } from './last-use.ts';
import { Module } from './module.ts';
import { BatchNorm3d, GroupNorm, InstanceNorm3d } from './norm.ts';
import type { Layer } from './sequential.ts';
import { Sequential } from './sequential.ts';

export type Normalization = 'batchnorm' | 'instancenorm' | 'groupnorm' | 'none';

/** The normalisation after a convolution with `channels` outputs; none adds no layer (indices shift). */
function norm(kind: Normalization, channels: number): Layer[] {
  switch (kind) {
    case 'batchnorm': return [new BatchNorm3d(channels)];
    case 'groupnorm': return [new GroupNorm(16, channels)];
    case 'instancenorm': return [new InstanceNorm3d(channels)];
    case 'none': return [];
    default: throw new Error(`voxgrad: VNet normalization '${kind as string}' is not one of batchnorm, instancenorm, groupnorm, none`);
  }
}

class Block extends Module {
  readonly conv: Sequential;

  constructor(layers: Layer[]) {
    super();
    this.conv = this.registerModule('conv', new Sequential(...layers));
  }

  /**
   * The layers in order, with each norm → ReLU pair run as one fused pass; `residual` is added to the
   * block's output (inside the last fused pass when the block ends with one).
   */
  forward(x: Tensor, residual?: Tensor): Tensor {
    const layers = this.conv.layers;
    let h = x;
    const step = (next: Tensor) => {
      afterLastUse(h, next, x);
      h = next;
    };
    for (let i = 0; i < layers.length; i++) {
      const m = layers[i];
      if (isNorm(m) && layers[i + 1] instanceof ReLU) {
        const last = i + 2 === layers.length;
        step(m.forward(h, { relu: true, residual: last ? residual : undefined }));
        if (last) return h;
        i++;
      } else {
        step(m.forward(h));
      }
    }
    if (residual) step(add(h, residual));
    return h;
  }
}

function isNorm(m: Layer): m is BatchNorm3d | GroupNorm | InstanceNorm3d {
  return m instanceof BatchNorm3d || m instanceof GroupNorm || m instanceof InstanceNorm3d;
}

/** `stages` × [Conv3d 3³ padding 1 → norm → ReLU]; no residual. */
export class ConvBlock extends Block {
  constructor(stages: number, inChannels: number, outChannels: number, normalization: Normalization, generator: Generator) {
    const layers: Layer[] = [];
    for (let i = 0; i < stages; i++) {
      layers.push(new Conv3d(i === 0 ? inChannels : outChannels, outChannels, 3, { padding: 1, generator }),
                  ...norm(normalization, outChannels), new ReLU());
    }
    super(layers);
  }
}

/** Conv3d kernel 2 stride 2 → norm → ReLU: halves each spatial size. */
export class DownBlock extends Block {
  constructor(inChannels: number, outChannels: number, normalization: Normalization, generator: Generator) {
    super([new Conv3d(inChannels, outChannels, 2, { stride: 2, generator }), ...norm(normalization, outChannels), new ReLU()]);
  }
}

/** ConvTranspose3d kernel 2 stride 2 → norm → ReLU: doubles each spatial size. */
export class UpBlock extends Block {
  constructor(inChannels: number, outChannels: number, normalization: Normalization, generator: Generator) {
    super([new ConvTranspose3d(inChannels, outChannels, 2, { stride: 2, generator }),
           ...norm(normalization, outChannels), new ReLU()]);
  }
}
