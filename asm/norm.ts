// Normalisation kernels over x viewed as [n, c, vol] (a channel's values are n runs of vol floats).
// Statistics and the backward sums go channel by channel, each channel summed in float64 in a fixed
// order by one part, so results do not depend on the thread count. The epilogue is elementwise.
import { at, fma, share } from './common';

/** The four float64 lanes of s0 and s1, summed in one fixed order. */
@inline
function fold(s0: v128, s1: v128): f64 {
  return (f64x2.extract_lane(s0, 0) + f64x2.extract_lane(s1, 0)) + (f64x2.extract_lane(s0, 1) + f64x2.extract_lane(s1, 1));
}

/** Σ x over one run of len floats, in float64. */
@inline
function runSum(p: usize, len: i32): f64 {
  let s0 = f64x2.splat(0), s1 = f64x2.splat(0);
  let k = 0;
  for (; k + 4 <= len; k += 4) {
    const v = v128.load(at(p, k));
    s0 = f64x2.add(s0, f64x2.promote_low_f32x4(v));
    s1 = f64x2.add(s1, f64x2.promote_low_f32x4(i32x4.shuffle(v, v, 2, 3, 0, 1)));
  }
  let s = fold(s0, s1);
  for (; k < len; k++) s += <f64>load<f32>(at(p, k));
  return s;
}

/** Σ (x − mean)² over one run, in float64. */
@inline
function runSquares(p: usize, len: i32, mean: f64): f64 {
  const m = f64x2.splat(mean);
  let s0 = f64x2.splat(0), s1 = f64x2.splat(0);
  let k = 0;
  for (; k + 4 <= len; k += 4) {
    const v = v128.load(at(p, k));
    const d0 = f64x2.sub(f64x2.promote_low_f32x4(v), m);
    const d1 = f64x2.sub(f64x2.promote_low_f32x4(i32x4.shuffle(v, v, 2, 3, 0, 1)), m);
    s0 = f64x2.add(s0, f64x2.mul(d0, d0));
    s1 = f64x2.add(s1, f64x2.mul(d1, d1));
  }
  let s = fold(s0, s1);
  for (; k < len; k++) {
    const d = <f64>load<f32>(at(p, k)) - mean;
    s += d * d;
  }
  return s;
}

/** stats[ch] = mean, stats[c + ch] = biased variance of channel ch (two passes). */
export function channelMoments(x: usize, stats: usize, n: i32, c: i32, vol: i32, tid: i32, nt: i32): void {
  const c0 = share(c, tid, nt, 1), c1 = share(c, tid + 1, nt, 1);
  const count = <f64>n * <f64>vol;
  for (let ch = c0; ch < c1; ch++) {
    let s: f64 = 0;
    for (let b = 0; b < n; b++) s += runSum(at(x, (b * c + ch) * vol), vol);
    const mean = s / count;
    let ss: f64 = 0;
    for (let b = 0; b < n; b++) ss += runSquares(at(x, (b * c + ch) * vol), vol, mean);
    store<f32>(at(stats, ch), <f32>mean);
    store<f32>(at(stats, c + ch), <f32>(ss / count));
  }
}

/** Four floats from p, or the first `len` of them (the rest 0), so tails compute like full vectors. */
@inline
function loadPart(p: usize, len: i32): v128 {
  if (len >= 4) return v128.load(p);
  let v = f32x4.splat(0);
  if (len > 0) v = f32x4.replace_lane(v, 0, load<f32>(p));
  if (len > 1) v = f32x4.replace_lane(v, 1, load<f32>(p, 4));
  if (len > 2) v = f32x4.replace_lane(v, 2, load<f32>(p, 8));
  return v;
}

@inline
function storePart(p: usize, v: v128, len: i32): void {
  if (len >= 4) { v128.store(p, v); return; }
  if (len > 0) store<f32>(p, f32x4.extract_lane(v, 0));
  if (len > 1) store<f32>(p, f32x4.extract_lane(v, 1), 4);
  if (len > 2) store<f32>(p, f32x4.extract_lane(v, 2), 8);
}

/**
 * out = (relu ? max(z, 0) : z) + residual with z = x·scale[ch] + shift[ch] (residual 0: none). Every
 * element goes through the same vector multiply-add, so channelAffineBackward's z is bit-identical.
 */
export function channelAffine(x: usize, scale: usize, shift: usize, residual: usize, out: usize, n: i32, c: i32, vol: i32,
                              relu: i32, tid: i32, nt: i32): void {
  const total = n * c * vol;
  const i0 = share(total, tid, nt, 16), i1 = share(total, tid + 1, nt, 16);
  const zero = f32x4.splat(0);
  let i = i0;
  while (i < i1) {
    const r = i / vol;
    const end = min(i1, (r + 1) * vol);
    const ch = r % c;
    const s = v128.load32_splat(at(scale, ch)), t = v128.load32_splat(at(shift, ch));
    for (; i < end; i += 4) {
      const len = end - i;
      let z = fma(loadPart(at(x, i), len), s, t);
      if (relu) z = v128.andnot(z, f32x4.le(z, zero)); // NaN passes, as in PyTorch
      if (residual) z = f32x4.add(z, loadPart(at(residual, i), len));
      storePart(at(out, i), z, len);
    }
    i = end;
  }
}

/** gy, zeroed where relu and z = x·scale + shift ≤ 0 (z as channelAffine computes it). */
@inline
function maskedGrad(g: v128, x: v128, s: v128, t: v128, relu: i32): v128 {
  return relu ? v128.and(g, f32x4.gt(fma(x, s, t), f32x4.splat(0))) : g;
}

/** sums[ch] = Σ gz and sums[c + ch] = Σ gz·x (gz = maskedGrad), in float64 over exact products. */
export function channelAffineBackward(gy: usize, x: usize, scale: usize, shift: usize, sums: usize,
                                      n: i32, c: i32, vol: i32, relu: i32, tid: i32, nt: i32): void {
  const c0 = share(c, tid, nt, 1), c1 = share(c, tid + 1, nt, 1);
  for (let ch = c0; ch < c1; ch++) {
    const s = v128.load32_splat(at(scale, ch)), t = v128.load32_splat(at(shift, ch));
    let g0 = f64x2.splat(0), g1 = g0, gx0 = g0, gx1 = g0;
    for (let b = 0; b < n; b++) {
      const base = (b * c + ch) * vol;
      for (let k = 0; k < vol; k += 4) {
        const len = vol - k;
        const xv = loadPart(at(x, base + k), len);
        const g = maskedGrad(loadPart(at(gy, base + k), len), xv, s, t, relu);
        const glo = f64x2.promote_low_f32x4(g), ghi = f64x2.promote_low_f32x4(i32x4.shuffle(g, g, 2, 3, 0, 1));
        const xlo = f64x2.promote_low_f32x4(xv), xhi = f64x2.promote_low_f32x4(i32x4.shuffle(xv, xv, 2, 3, 0, 1));
        g0 = f64x2.add(g0, glo); g1 = f64x2.add(g1, ghi);
        gx0 = f64x2.add(gx0, f64x2.mul(glo, xlo)); gx1 = f64x2.add(gx1, f64x2.mul(ghi, xhi));
      }
    }
    store<f32>(at(sums, ch), <f32>fold(g0, g1));
    store<f32>(at(sums, c + ch), <f32>fold(gx0, gx1));
  }
}

/** gx = gz·scale[ch] + x·a[ch] + b[ch] (gz = maskedGrad), elementwise. */
export function channelAffineBackwardInput(gy: usize, x: usize, scale: usize, shift: usize, a: usize, b: usize, gx: usize,
                                           n: i32, c: i32, vol: i32, relu: i32, tid: i32, nt: i32): void {
  const total = n * c * vol;
  const i0 = share(total, tid, nt, 16), i1 = share(total, tid + 1, nt, 16);
  let i = i0;
  while (i < i1) {
    const r = i / vol;
    const end = min(i1, (r + 1) * vol);
    const ch = r % c;
    const s = v128.load32_splat(at(scale, ch)), t = v128.load32_splat(at(shift, ch));
    const va = v128.load32_splat(at(a, ch)), vb = v128.load32_splat(at(b, ch));
    for (; i < end; i += 4) {
      const len = end - i;
      const xv = loadPart(at(x, i), len);
      const g = maskedGrad(loadPart(at(gy, i), len), xv, s, t, relu);
      storePart(at(gx, i), fma(g, s, fma(xv, va, vb)), len);
    }
    i = end;
  }
}
