// Reductions of x viewed as [outer, r, inner] over the middle axis. Sums accumulate in float64 so that
// long reductions (batch-norm statistics over whole volumes) keep float32 accuracy; each output is
// summed in a fixed order, whatever the thread count.
import { at, share } from './common';

const SUM = 0;

/** Sum or max over a contiguous row of r floats. */
@inline
function reduceRow(op: i32, p: usize, r: i32): f32 {
  let k = 0;
  if (op == SUM) {
    let s0 = f64x2.splat(0), s1 = f64x2.splat(0);
    for (; k + 4 <= r; k += 4) {
      const v = v128.load(at(p, k));
      s0 = f64x2.add(s0, f64x2.promote_low_f32x4(v));
      s1 = f64x2.add(s1, f64x2.promote_low_f32x4(i32x4.shuffle(v, v, 2, 3, 0, 1)));
    }
    let s = (f64x2.extract_lane(s0, 0) + f64x2.extract_lane(s1, 0)) + (f64x2.extract_lane(s0, 1) + f64x2.extract_lane(s1, 1));
    for (; k < r; k++) s += <f64>load<f32>(at(p, k));
    return <f32>s;
  }
  let best = -Infinity as f32;
  if (r >= 4) {
    let m = v128.load(p);
    for (k = 4; k + 4 <= r; k += 4) m = f32x4.max(m, v128.load(at(p, k)));
    best = max<f32>(max<f32>(f32x4.extract_lane(m, 0), f32x4.extract_lane(m, 1)), max<f32>(f32x4.extract_lane(m, 2), f32x4.extract_lane(m, 3)));
    // f32x4.max propagates NaN; the scalar max of lanes must too
    const nan = f32x4.ne(m, m);
    if (v128.any_true(nan)) best = NaN;
  }
  for (; k < r; k++) {
    const v = load<f32>(at(p, k));
    if (v > best || v != v) best = v;
  }
  return best;
}

/** Columns q..q+16 of one outer slice: 16 sums (or maxima) over r rows spaced `inner` apart. */
@inline
function reduceColumns16(op: i32, p: usize, r: i32, inner: i32, out: usize): void {
  const step = <usize>inner << 2;
  if (op == SUM) {
    let a0 = f64x2.splat(0), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0, a7 = a0;
    for (let k = 0; k < r; k++) {
      const v0 = v128.load(p), v1 = v128.load(p, 16), v2 = v128.load(p, 32), v3 = v128.load(p, 48);
      a0 = f64x2.add(a0, f64x2.promote_low_f32x4(v0)); a1 = f64x2.add(a1, f64x2.promote_low_f32x4(i32x4.shuffle(v0, v0, 2, 3, 0, 1)));
      a2 = f64x2.add(a2, f64x2.promote_low_f32x4(v1)); a3 = f64x2.add(a3, f64x2.promote_low_f32x4(i32x4.shuffle(v1, v1, 2, 3, 0, 1)));
      a4 = f64x2.add(a4, f64x2.promote_low_f32x4(v2)); a5 = f64x2.add(a5, f64x2.promote_low_f32x4(i32x4.shuffle(v2, v2, 2, 3, 0, 1)));
      a6 = f64x2.add(a6, f64x2.promote_low_f32x4(v3)); a7 = f64x2.add(a7, f64x2.promote_low_f32x4(i32x4.shuffle(v3, v3, 2, 3, 0, 1)));
      p += step;
    }
    v128.store(out, f32x4.demote_f64x2_zero(a0)); v128.store(out + 8, f32x4.demote_f64x2_zero(a1));
    v128.store(out + 16, f32x4.demote_f64x2_zero(a2)); v128.store(out + 24, f32x4.demote_f64x2_zero(a3));
    v128.store(out + 32, f32x4.demote_f64x2_zero(a4)); v128.store(out + 40, f32x4.demote_f64x2_zero(a5));
    // the last store would write 8 bytes past the 16 outputs: store its two lanes one by one
    const l6 = f32x4.demote_f64x2_zero(a6), l7 = f32x4.demote_f64x2_zero(a7);
    v128.store(out + 48, l6);
    store<f32>(out + 56, f32x4.extract_lane(l7, 0)); store<f32>(out + 60, f32x4.extract_lane(l7, 1));
    return;
  }
  let m0 = v128.load(p), m1 = v128.load(p, 16), m2 = v128.load(p, 32), m3 = v128.load(p, 48);
  for (let k = 1; k < r; k++) {
    p += step;
    m0 = f32x4.max(m0, v128.load(p)); m1 = f32x4.max(m1, v128.load(p, 16));
    m2 = f32x4.max(m2, v128.load(p, 32)); m3 = f32x4.max(m3, v128.load(p, 48));
  }
  v128.store(out, m0); v128.store(out, m1, 16); v128.store(out, m2, 32); v128.store(out, m3, 48);
}

@inline
function reduceColumn(op: i32, p: usize, r: i32, inner: i32): f32 {
  const step = <usize>inner << 2;
  if (op == SUM) {
    let s: f64 = 0;
    for (let k = 0; k < r; k++) { s += <f64>load<f32>(p); p += step; }
    return <f32>s;
  }
  let best = -Infinity as f32;
  for (let k = 0; k < r; k++) {
    const v = load<f32>(p);
    if (v > best || v != v) best = v;
    p += step;
  }
  return best;
}

export function reduce(op: i32, x: usize, out: usize, outer: i32, r: i32, inner: i32, tid: i32, nt: i32): void {
  const total = outer * inner;
  const o0 = share(total, tid, nt, 16), o1 = share(total, tid + 1, nt, 16);
  if (inner == 1) {
    for (let o = o0; o < o1; o++) store<f32>(at(out, o), reduceRow(op, at(x, o * r), r));
    return;
  }
  let o = o0;
  while (o < o1) {
    const p = o / inner, q0 = o - p * inner;
    const q1 = min(inner, q0 + (o1 - o));
    const base = at(x, p * r * inner);
    let q = q0;
    for (; q + 16 <= q1; q += 16) reduceColumns16(op, at(base, q), r, inner, at(out, p * inner + q));
    for (; q < q1; q++) store<f32>(at(out, p * inner + q), reduceColumn(op, at(base, q), r, inner));
    o += q1 - q0;
  }
}

/** Index of the first maximum along the middle axis, written as a float. */
export function argmax(x: usize, out: usize, outer: i32, r: i32, inner: i32, tid: i32, nt: i32): void {
  const total = outer * inner;
  const o0 = share(total, tid, nt, 16), o1 = share(total, tid + 1, nt, 16);
  for (let o = o0; o < o1; o++) {
    const p = o / inner, q = o - p * inner;
    const base = at(x, p * r * inner + q);
    let best = 0, bestV = load<f32>(base);
    for (let k = 1; k < r; k++) {
      const v = load<f32>(at(base, k * inner));
      if (v > bestV) { best = k; bestV = v; }
    }
    store<f32>(at(out, o), <f32>best);
  }
}
