// Per-channel statistics and the fused normalisation epilogue, on x viewed as [n, c, vol]; the
// normalisation ops (norm.ts) are built from these two. Their gradients call the backend's fused
// primitives, and scale/shift stay ordinary tensors, so gradients reach mean and variance through
// the ops that made scale and shift.
import { record } from '../autograd.ts';
import { empty, Tensor } from '../tensor.ts';
import { mul, sub } from './elementwise.ts';
import { reshape, slice } from './shape.ts';

/** The channel axis c and the n·vol values per channel that x's layout gives. */
export interface ChannelView {
  n: number;
  c: number;
  vol: number;
}

/** Row `k` of a [2, c] tensor, as [c]. */
export function row(t: Tensor, k: 0 | 1): Tensor {
  const c = t.size / 2;
  return reshape(slice(reshape(t, [2, c]), [[k, k + 1]]), [c]);
}

function checkView(what: string, x: Tensor, v: ChannelView) {
  if (v.n * v.c * v.vol !== x.size) {
    throw new Error(`voxgrad (engine/ops/channel.ts): ${what} views [${x.shape}] as [${v.n}, ${v.c}, ${v.vol}]`);
  }
}

/** [2, c]: the mean and the biased variance of each channel. */
export function channelMoments(x: Tensor, v: ChannelView): Tensor {
  checkView('channelMoments', x, v);
  const stats = empty([2, v.c], x.backend);
  x.backend.channelMoments(x.buf, stats.buf, v.n, v.c, v.vol);
  return record(stats, [x], 'channelMoments', (g) => {
    // d mean/dx = 1/M, d var/dx = 2(x − mean)/M: gx = x·a + b with a = 2·gvar/M, b = gmean/M − a·mean
    const count = v.n * v.vol;
    const a = mul(row(g, 1), 2 / count);
    const b = sub(mul(row(g, 0), 1 / count), mul(a, row(stats, 0)));
    const gx = empty(x.shape, x.backend);
    x.backend.channelAffine(x.buf, a.buf, b.buf, null, gx.buf, v.n, v.c, v.vol, false);
    return [gx];
  });
}

export interface ChannelAffineOptions {
  /** ReLU after the affine map. */
  relu?: boolean;
  /** Added last (after the ReLU), with x's shape: the V-Net's skip connections. */
  residual?: Tensor;
}

/** (relu?)(x·scale[ch] + shift[ch]) + residual, with scale and shift of shape [c]. */
export function channelAffine(x: Tensor, scale: Tensor, shift: Tensor, v: ChannelView,
                              opts: ChannelAffineOptions = {}): Tensor {
  checkView('channelAffine', x, v);
  const { relu = false, residual } = opts;
  if (scale.size !== v.c || shift.size !== v.c) {
    throw new Error(`voxgrad (engine/ops/channel.ts): channelAffine needs ${v.c} scales and shifts, ` +
                    `got [${scale.shape}] and [${shift.shape}]`);
  }
  if (residual && residual.shape.join() !== x.shape.join()) {
    throw new Error(`voxgrad (engine/ops/channel.ts): residual [${residual.shape}] does not match x [${x.shape}]`);
  }
  const out = empty(x.shape, x.backend);
  x.backend.channelAffine(x.buf, scale.buf, shift.buf, residual?.buf ?? null, out.buf, v.n, v.c, v.vol, relu);
  const inputs = residual ? [x, scale, shift, residual] : [x, scale, shift];
  return record(out, inputs, 'channelAffine', (g) => {
    const gx = empty(x.shape, x.backend), sums = empty([2, v.c], x.backend);
    x.backend.channelAffineBackward(g.buf, x.buf, scale.buf, shift.buf, gx.buf, sums.buf, v.n, v.c, v.vol, relu);
    const grads = [gx, reshape(row(sums, 1), scale.shape), reshape(row(sums, 0), shift.shape)];
    return residual ? [...grads, g] : grads;
  });
}
