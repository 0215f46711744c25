// The normalisation epilogue out = (relu?)(x·scale[ch] + shift[ch]) + residual over x viewed as
// [n, c, vol], on the backend's fused per-channel primitives; norm.ts builds every normalisation on it.
// scale and shift stay ordinary [c] tensors made by ordinary ops, so autograd carries gradients from
// them to γ, β and to the channel statistics; only the two big passes over x are written here.
import { keep } from '../memory.ts';
import { allowRecompute, record } from '../autograd.ts';
import type { BackendBuffer } from '../backend.ts';
import { empty, shareStorage, Tensor } from '../tensor.ts';
import { full } from './create.ts';
import { mul, sub } from './elementwise.ts';
import { expand } from './broadcast.ts';
import { reshape, slice } from './shape.ts';

/** The channel axis c and the n·vol values per channel that x's layout gives. */
export interface ChannelView {
  n: number;
  c: number;
  vol: number;
}

export interface ChannelAffineOptions {
  /** ReLU after the affine map. */
  relu?: boolean;
  /** Added last (after the ReLU), with x's shape: the V-Net's skip connections. */
  residual?: Tensor;
}

/** Row `k` of a [2, c] tensor, as [c]. */
export function row(t: Tensor, k: 0 | 1): Tensor {
  const c = t.size / 2;
  return reshape(slice(reshape(t, [2, c]), [[k, k + 1]]), [c]);
}

function check(x: Tensor, v: ChannelView, opts: ChannelAffineOptions) {
  if (v.n * v.c * v.vol !== x.size) {
    throw new Error(`voxgrad (engine/ops/channel.ts): cannot view [${x.shape}] as [${v.n}, ${v.c}, ${v.vol}]`);
  }
  if (opts.residual && opts.residual.shape.join() !== x.shape.join()) {
    throw new Error(`voxgrad (engine/ops/channel.ts): residual [${opts.residual.shape}] does not match x [${x.shape}]`);
  }
}

/**
 * The epilogue as an autograd node. Its gradient for x is gz·scale + x·a + b, where a and b carry
 * what reaches x through statistics computed from x (zero without them); `deferInput` hands gz's
 * source (the incoming gradient) to the statistics node instead, which then forms all of it in one pass.
 */
function affineNode(x: Tensor, scale: Tensor, shift: Tensor, v: ChannelView, opts: ChannelAffineOptions,
                    deferInput: ((g: Tensor) => void) | null): Tensor {
  const { relu = false, residual } = opts;
  if (scale.size !== v.c || shift.size !== v.c) {
    throw new Error(`voxgrad (engine/ops/channel.ts): the epilogue needs ${v.c} scales and shifts, ` +
                    `got [${scale.shape}] and [${shift.shape}]`);
  }
  const be = x.backend;
  const out = empty(x.shape, be);
  const compute = (buf: BackendBuffer) =>
    be.channelAffine(x.buf, scale.buf, shift.buf, residual?.buf ?? null, buf, v.n, v.c, v.vol, relu);
  compute(out.buf);
  const inputs = residual ? [x, scale, shift, residual] : [x, scale, shift];
  // the graph keeps x, scale, shift (and the residual) for this node's backward: out need not be kept
  // as well when a later node saves it (a convolution's input), since it comes back from those
  allowRecompute(out, inputs, compute);
  return record(out, inputs, 'channelAffine', (g) => {
    const sums = empty([2, v.c], be);
    be.channelAffineBackward(g.buf, x.buf, scale.buf, shift.buf, sums.buf, v.n, v.c, v.vol, relu);
    let gx: Tensor | null = null;
    if (deferInput) {
      deferInput(g);
    } else if (x.requiresGrad) {
      const zero = full([v.c], 0, be);
      gx = empty(x.shape, be);
      be.channelAffineBackwardInput(g.buf, x.buf, scale.buf, shift.buf, zero.buf, zero.buf, gx.buf, v.n, v.c, v.vol, relu);
    }
    const grads = [gx, reshape(row(sums, 1), scale.shape), reshape(row(sums, 0), shift.shape)];
    return residual ? [...grads, g] : grads;
  });
}

/** (relu?)(x·scale[ch] + shift[ch]) + residual, with scale and shift of c values each. */
export function channelAffine(x: Tensor, scale: Tensor, shift: Tensor, v: ChannelView,
                              opts: ChannelAffineOptions = {}): Tensor {
  check(x, v, opts);
  return affineNode(x, scale, shift, v, opts, null);
}

/**
 * Normalisation by x's own per-channel statistics: `scaleShift` maps the mean and biased variance of
 * each channel of the `stats` view to the scale and shift of each channel of the `affine` view (the
 * same memory; each statistics channel spans a whole number of epilogue channels, as a group spans
 * its channels). In backward, the gradient reaching x through the statistics (d mean/dx = 1/M,
 * d var/dx = 2(x − mean)/M over the channel's M values) and the one through the epilogue are formed
 * together in one pass.
 */
export function normalizeChannels(x: Tensor, stats: ChannelView,
                                  scaleShift: (mean: Tensor, variance: Tensor) => { scale: Tensor; shift: Tensor },
                                  opts: ChannelAffineOptions = {}, affine: ChannelView = stats): Tensor {
  check(x, stats, opts);
  check(x, affine, opts);
  const per = affine.c / stats.c;
  if (!Number.isInteger(per) || affine.n !== stats.n) {
    throw new Error(`voxgrad (engine/ops/channel.ts): statistics over [${stats.n}, ${stats.c}, ${stats.vol}] do not ` +
                    `span whole channels of [${affine.n}, ${affine.c}, ${affine.vol}]`);
  }
  const be = x.backend;
  const moments = empty([2, stats.c], be);
  be.channelMoments(x.buf, moments.buf, stats.n, stats.c, stats.vol);
  // The epilogue's incoming gradient, kept alive from the epilogue's backward (which autograd runs
  // first: the statistics come before it in the graph) until the statistics' backward uses it.
  let deferred: Tensor | null = null;
  const toAffine = (t: Tensor) => (per === 1 ? t : reshape(expand(reshape(t, [stats.c, 1]), [stats.c, per]), [affine.c]));
  const recorded = record(moments, [x], 'channelMoments', (gs) => {
    const count = stats.n * stats.vol;
    const a = mul(row(gs, 1), 2 / count);
    const b = toAffine(sub(mul(row(gs, 0), 1 / count), mul(a, row(moments, 0))));
    const aa = toAffine(a);
    const gx = empty(x.shape, be);
    const { n, c, vol } = affine;
    if (deferred) {
      be.channelAffineBackwardInput(deferred.buf, x.buf, scale.buf, shift.buf, aa.buf, b.buf, gx.buf, n, c, vol,
                                    opts.relu ?? false);
      deferred.dispose();
      deferred = null;
    } else {
      be.channelAffine(x.buf, aa.buf, b.buf, null, gx.buf, n, c, vol, false);
    }
    return [gx];
  });
  const { scale, shift } = scaleShift(row(recorded, 0), row(recorded, 1));
  const defer = recorded.requiresGrad ? (g: Tensor) => {
    deferred?.dispose();
    deferred = keep(shareStorage(g, g.shape));
  } : null;
  return affineNode(x, scale, shift, affine, opts, defer);
}
