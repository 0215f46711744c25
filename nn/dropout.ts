// nn.Dropout3d: zeroes whole channels in train mode. The masks come from the layer's seeded
// generator, or are given per call (to reproduce another framework's draw exactly).
import { dropout3d } from '../engine/ops/dropout.ts';
import { Generator } from '../engine/random.ts';
import type { Tensor } from '../engine/tensor.ts';
import { Module } from './module.ts';

export class Dropout3d extends Module {
  constructor(readonly p = 0.5, readonly generator = new Generator(0)) {
    super();
    if (!(p >= 0 && p <= 1)) throw new Error(`voxgrad: Dropout3d probability ${p} outside [0, 1]`);
  }

  /** `mask`: keep (1) or drop (0) per [N, C], used instead of a draw. */
  forward(x: Tensor, mask?: ArrayLike<number>): Tensor {
    return dropout3d(x, this.p, { training: this.training, generator: this.generator, mask });
  }
}
