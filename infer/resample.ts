// Back to the scan's grid from a model that ran at 1/f of its resolution: trilinear upsampling as
// torch.nn.functional.interpolate(x, scale_factor=f, mode='trilinear', align_corners=False) computes
// it, cropped to the full-resolution shape. The scale is 1/f itself, not small/full: downsampling
// rounds each axis up (⌈n/f⌉ blocks), so full ≤ f·small, and output voxel o samples the low grid at
// (o + ½)/f − ½, the centre of the block it fell in when reduced (datasets/downsample.ts).
// Interpolating axis by axis gives PyTorch's values up to float32 rounding (its kernel sums the
// eight corners at once): within 3e-7 on the fixtures.
import type { Shape3 } from './sliding-window.ts';

interface Taps { lo: Int32Array; hi: Int32Array; wLo: Float32Array; wHi: Float32Array }

/** Source indices and weights of each output index along one axis (float32, as PyTorch's kernel). */
function taps(inSize: number, outSize: number, f: number): Taps {
  const scale = Math.fround(1 / f);
  const t: Taps = { lo: new Int32Array(outSize), hi: new Int32Array(outSize), wLo: new Float32Array(outSize), wHi: new Float32Array(outSize) };
  for (let o = 0; o < outSize; o++) {
    const src = Math.max(Math.fround(Math.fround(scale * Math.fround(o + 0.5)) - 0.5), 0);
    const lo = Math.min(Math.floor(src), inSize - 1);
    const frac = Math.fround(src - lo);
    t.lo[o] = lo;
    t.hi[o] = lo < inSize - 1 ? lo + 1 : lo;
    t.wHi[o] = frac;
    t.wLo[o] = Math.fround(1 - frac);
  }
  return t;
}

/** Linear interpolation along one axis of [outer, n, inner] into [outer, m, inner]. */
function alongAxis(src: Float32Array, outer: number, inner: number, t: Taps): Float32Array {
  const n = src.length / (outer * inner), m = t.lo.length;
  const dst = new Float32Array(outer * m * inner);
  for (let a = 0; a < outer; a++) {
    for (let o = 0; o < m; o++) {
      const lo = (a * n + t.lo[o]) * inner, hi = (a * n + t.hi[o]) * inner, to = (a * m + o) * inner;
      const wl = t.wLo[o], wh = t.wHi[o];
      for (let k = 0; k < inner; k++) dst[to + k] = wl * src[lo + k] + wh * src[hi + k];
    }
  }
  return dst;
}

/**
 * `data` holds `channels` volumes of shape `small`, row-major [C, X, Y, Z]; the result holds them at
 * `full`, which must lie within f·small on every axis (what ⌈n/f⌉ blocks came from).
 */
export function upsampleTrilinear(data: Float32Array, channels: number, small: Shape3, f: number, full: Shape3): Float32Array {
  const [X, Y, Z] = small;
  if (data.length !== channels * X * Y * Z) {
    throw new Error(`upsampleTrilinear: ${data.length} values, ${channels} channel(s) of ${small.join('×')} need ${channels * X * Y * Z}`);
  }
  if (!Number.isInteger(f) || f < 1 || full.some((n, i) => n < 1 || n > f * small[i] || Math.ceil(n / f) !== small[i])) {
    throw new Error(`upsampleTrilinear: ${full.join('×')} is not a volume that ${f}× downsampling takes to ${small.join('×')}`);
  }
  const [FX, FY, FZ] = full;
  const z = alongAxis(data, channels * X * Y, 1, taps(Z, FZ, f));
  const y = alongAxis(z, channels * X, FZ, taps(Y, FY, f));
  return alongAxis(y, channels, FY * FZ, taps(X, FX, f));
}
