// The random draws of one training iteration besides the data: the Dropout3d keep-masks of every
// forward pass and the teachers' input noise ξ = clip(σ·N(0, 1), −c, c). Methods take them from a
// Draws, so the trainer draws them from its seeded generator and a parity test can supply the
// reference's own.
import { channelMask } from '../engine/ops/dropout.ts';
import type { Generator } from '../engine/random.ts';

export interface Draws {
  /** Keep-masks [n·channels[0]] and [n·channels[1]] for a V-Net's two Dropout3d layers. */
  dropoutMasks(n: number, channels: readonly [number, number]): [Float32Array, Float32Array];
  /** Clipped Gaussian noise for a teacher's input, `count` values. */
  inputNoise(count: number): Float32Array;
}

export interface NoiseOptions {
  std: number;
  clip: number;
}

export class GeneratorDraws implements Draws {
  constructor(private readonly g: Generator, private readonly noise: NoiseOptions, private readonly p = 0.5) {}

  dropoutMasks(n: number, [c5, c9]: readonly [number, number]): [Float32Array, Float32Array] {
    return [channelMask(n, c5, this.p, this.g), channelMask(n, c9, this.p, this.g)];
  }

  /** Box–Muller using both values of each pair: the teachers draw 36 patch volumes of noise an iteration. */
  inputNoise(count: number): Float32Array {
    const { std, clip } = this.noise;
    const out = new Float32Array(count);
    const clipped = (v: number) => Math.min(Math.max(std * v, -clip), clip);
    for (let i = 0; i < count; i += 2) {
      const r = Math.sqrt(-2 * Math.log(1 - this.g.uniform())), a = 2 * Math.PI * this.g.uniform();
      out[i] = clipped(r * Math.cos(a));
      if (i + 1 < count) out[i + 1] = clipped(r * Math.sin(a));
    }
    return out;
  }
}
