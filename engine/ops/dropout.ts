// Channel dropout (nn.Dropout3d): whole feature maps are zeroed with probability p and the rest
// scaled by 1/(1−p). The mask comes from an explicit generator, or is given (for parity tests).
import type { Generator } from '../random.ts';
import type { Tensor } from '../tensor.ts';
import { tensor } from './create.ts';
import { mul } from './elementwise.ts';

export interface DropoutOptions {
  training?: boolean;
  generator?: Generator;
  /** Keep (1) or drop (0) per [N, C]; overrides the generator. */
  mask?: ArrayLike<number>;
}

/** The [N, C] keep-mask that dropout3d would draw from `generator`. */
export function channelMask(n: number, c: number, p: number, generator: Generator): Float32Array {
  return Float32Array.from({ length: n * c }, () => (generator.uniform() >= p ? 1 : 0));
}

export function dropout3d(x: Tensor, p = 0.5, opts: DropoutOptions = {}): Tensor {
  if (p < 0 || p > 1) throw new Error(`voxgrad: dropout probability ${p} outside [0, 1]`);
  if (!(opts.training ?? true) || p === 0) return x;
  const [n, c] = x.shape;
  let keep: ArrayLike<number>;
  if (opts.mask) keep = opts.mask;
  else if (opts.generator) keep = channelMask(n, c, p, opts.generator);
  else throw new Error('voxgrad: dropout3d needs a generator or a mask');
  if (keep.length !== n * c) throw new Error(`voxgrad: dropout3d mask has ${keep.length} entries, needs ${n * c}`);
  const scale = p === 1 ? 0 : 1 / (1 - p);
  const m = tensor(Array.from(keep, (k) => k * scale), [n, c, ...x.shape.slice(2).map(() => 1)], x.backend);
  return mul(x, m);
}
