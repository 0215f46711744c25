// Elementwise kernels. Strided ones read their geometry from a descriptor the host writes:
// i32 [rank, shape[rank], strides of operand 0 (the output's flat index)[rank], of operand 1[rank], …],
// collapsed by the host so that the last axis is the longest run.
import { at, fma, share } from './common';

export function fill(out: usize, n: i32, value: f32, tid: i32, nt: i32): void {
  const i0 = share(n, tid, nt, 16), i1 = share(n, tid + 1, nt, 16);
  const v = f32x4.splat(value);
  let i = i0;
  for (; i + 4 <= i1; i += 4) v128.store(at(out, i), v);
  for (; i < i1; i++) store<f32>(at(out, i), value);
}

// Unary op codes (engine/backends/wasm/ops.ts holds the same table).
const NEG = 0, EXP = 1, LOG = 2, SQRT = 3, ABS = 4, TANH = 5, SIGMOID = 6, RELU = 7, SQUARE = 8, SIGN = 9,
  STEP = 10, POW = 11, CLAMP = 12, IN_RANGE = 13, AFFINE = 14;

@inline
function unaryScalar(op: i32, x: f32, a: f32, b: f32): f32 {
  switch (op) {
    case NEG: return -x;
    case EXP: return Mathf.exp(x);
    case LOG: return Mathf.log(x);
    case SQRT: return Mathf.sqrt(x);
    case ABS: return Mathf.abs(x);
    case TANH: return Mathf.tanh(x);
    case SIGMOID: return 1 / (1 + Mathf.exp(-x));
    // NaN passes, as in PyTorch: only values ≤ 0 become 0
    case RELU: return x <= 0 ? 0 : x;
    case SQUARE: return x * x;
    case SIGN: return x > 0 ? 1 : x < 0 ? -1 : 0;
    case STEP: return x > 0 ? 1 : 0;
    case POW: return <f32>Math.pow(<f64>x, <f64>a);
    case CLAMP: return min<f32>(max<f32>(x, a), b);
    case IN_RANGE: return x >= a && x <= b ? 1 : 0;
    default: return a * x + b;
  }
}

/** Vector loop for the ops that have one; returns where the scalar loop takes over (i0 for the others). */
@inline
function unaryVector(op: i32, x: usize, out: usize, i0: i32, i1: i32, a: f32, b: f32): i32 {
  const zero = f32x4.splat(0), one = f32x4.splat(1), va = f32x4.splat(a), vb = f32x4.splat(b);
  let i = i0;
  switch (op) {
    case NEG: for (; i + 4 <= i1; i += 4) v128.store(at(out, i), f32x4.neg(v128.load(at(x, i)))); break;
    case SQRT: for (; i + 4 <= i1; i += 4) v128.store(at(out, i), f32x4.sqrt(v128.load(at(x, i)))); break;
    case ABS: for (; i + 4 <= i1; i += 4) v128.store(at(out, i), f32x4.abs(v128.load(at(x, i)))); break;
    case RELU: for (; i + 4 <= i1; i += 4) {
      const v = v128.load(at(x, i));
      v128.store(at(out, i), v128.andnot(v, f32x4.le(v, zero)));
    } break;
    case SQUARE: for (; i + 4 <= i1; i += 4) { const v = v128.load(at(x, i)); v128.store(at(out, i), f32x4.mul(v, v)); } break;
    case STEP: for (; i + 4 <= i1; i += 4) v128.store(at(out, i), v128.and(one, f32x4.gt(v128.load(at(x, i)), zero))); break;
    case SIGN: for (; i + 4 <= i1; i += 4) {
      const v = v128.load(at(x, i));
      v128.store(at(out, i), f32x4.sub(v128.and(one, f32x4.gt(v, zero)), v128.and(one, f32x4.lt(v, zero))));
    } break;
    case CLAMP: for (; i + 4 <= i1; i += 4) v128.store(at(out, i), f32x4.min(f32x4.max(v128.load(at(x, i)), va), vb)); break;
    case IN_RANGE: for (; i + 4 <= i1; i += 4) {
      const v = v128.load(at(x, i));
      v128.store(at(out, i), v128.and(one, v128.and(f32x4.ge(v, va), f32x4.le(v, vb))));
    } break;
    case AFFINE: for (; i + 4 <= i1; i += 4) v128.store(at(out, i), fma(va, v128.load(at(x, i)), vb)); break;
    default: break;
  }
  return i;
}

export function unary(op: i32, x: usize, out: usize, n: i32, a: f32, b: f32, tid: i32, nt: i32): void {
  const i0 = share(n, tid, nt, 16), i1 = share(n, tid + 1, nt, 16);
  for (let i = unaryVector(op, x, out, i0, i1, a, b); i < i1; i++) store<f32>(at(out, i), unaryScalar(op, load<f32>(at(x, i)), a, b));
}

// Binary op codes.
const ADD = 0, SUB = 1, MUL = 2, DIV = 3, LT = 4, LE = 5, GT = 6, GE = 7, EQ = 8;

@inline
function binaryScalar(op: i32, a: f32, b: f32): f32 {
  switch (op) {
    case ADD: return a + b;
    case SUB: return a - b;
    case MUL: return a * b;
    case DIV: return a / b;
    case LT: return a < b ? 1 : 0;
    case LE: return a <= b ? 1 : 0;
    case GT: return a > b ? 1 : 0;
    case GE: return a >= b ? 1 : 0;
    case EQ: return a == b ? 1 : 0;
    default: return a != b ? 1 : 0;
  }
}

@inline
function binaryVec(op: i32, a: v128, b: v128): v128 {
  const one = f32x4.splat(1);
  switch (op) {
    case ADD: return f32x4.add(a, b);
    case SUB: return f32x4.sub(a, b);
    case MUL: return f32x4.mul(a, b);
    case DIV: return f32x4.div(a, b);
    case LT: return v128.and(one, f32x4.lt(a, b));
    case LE: return v128.and(one, f32x4.le(a, b));
    case GT: return v128.and(one, f32x4.gt(a, b));
    case GE: return v128.and(one, f32x4.ge(a, b));
    case EQ: return v128.and(one, f32x4.eq(a, b));
    default: return v128.and(one, f32x4.ne(a, b));
  }
}

/** One contiguous output run of `len` elements; operand strides 1 or 0 take vector paths. */
function binaryRun(op: i32, a: usize, sa: i32, b: usize, sb: i32, out: usize, len: i32): void {
  let i = 0;
  if (sa == 1 && sb == 1) {
    for (; i + 4 <= len; i += 4) v128.store(at(out, i), binaryVec(op, v128.load(at(a, i)), v128.load(at(b, i))));
  } else if (sa == 0 && sb == 1) {
    const va = v128.load32_splat(a);
    for (; i + 4 <= len; i += 4) v128.store(at(out, i), binaryVec(op, va, v128.load(at(b, i))));
  } else if (sa == 1 && sb == 0) {
    const vb = v128.load32_splat(b);
    for (; i + 4 <= len; i += 4) v128.store(at(out, i), binaryVec(op, v128.load(at(a, i)), vb));
  }
  for (; i < len; i++) store<f32>(at(out, i), binaryScalar(op, load<f32>(at(a, i * sa)), load<f32>(at(b, i * sb))));
}

/** Sets idx (rank i32) to the multi-index of flat element i0. */
@inline
function startIndex(desc: usize, rank: i32, idx: usize, i0: i32): void {
  let rest = i0;
  for (let d = rank - 1; d >= 0; d--) {
    const s = load<i32>(desc + 4 + (<usize>d << 2));
    store<i32>(idx + (<usize>d << 2), rest % s);
    rest /= s;
  }
}

@inline
function offsetOf(desc: usize, rank: i32, idx: usize, operand: i32): i32 {
  let o = 0;
  const strides = desc + 4 + (<usize>(rank * (1 + operand)) << 2);
  for (let d = 0; d < rank; d++) o += load<i32>(idx + (<usize>d << 2)) * load<i32>(strides + (<usize>d << 2));
  return o;
}

/** Moves idx to the start of the next run (last axis index 0, carrying into higher axes). */
@inline
function nextRun(desc: usize, rank: i32, idx: usize): void {
  store<i32>(idx + (<usize>(rank - 1) << 2), 0);
  for (let d = rank - 2; d >= 0; d--) {
    const p = idx + (<usize>d << 2);
    const v = load<i32>(p) + 1;
    if (v < load<i32>(desc + 4 + (<usize>d << 2))) { store<i32>(p, v); return; }
    store<i32>(p, 0);
  }
}

/** out (contiguous) = a op b with broadcasting strides; `idx` is this thread's scratch (rank i32). */
export function binary(op: i32, a: usize, b: usize, out: usize, n: i32, desc: usize, scratch: usize, tid: i32, nt: i32): void {
  const rank = load<i32>(desc);
  const idx = scratch + (<usize>tid << 6);
  const i0 = share(n, tid, nt, 16), i1 = share(n, tid + 1, nt, 16);
  if (i0 >= i1) return;
  const last = load<i32>(desc + (<usize>rank << 2));
  const sa = load<i32>(desc + (<usize>(3 * rank) << 2)), sb = load<i32>(desc + (<usize>(4 * rank) << 2));
  startIndex(desc, rank, idx, i0);
  let i = i0;
  while (i < i1) {
    const col = load<i32>(idx + (<usize>(rank - 1) << 2));
    const len = min(last - col, i1 - i);
    binaryRun(op, at(a, offsetOf(desc, rank, idx, 1)), sa, at(b, offsetOf(desc, rank, idx, 2)), sb, at(out, i), len);
    i += len;
    nextRun(desc, rank, idx);
  }
}

/** out (contiguous) = cond != 0 ? a : b, all three broadcasting through strides. */
export function where(c: usize, a: usize, b: usize, out: usize, n: i32, desc: usize, scratch: usize, tid: i32, nt: i32): void {
  const rank = load<i32>(desc);
  const idx = scratch + (<usize>tid << 6);
  const i0 = share(n, tid, nt, 16), i1 = share(n, tid + 1, nt, 16);
  if (i0 >= i1) return;
  const last = load<i32>(desc + (<usize>rank << 2));
  const sc = load<i32>(desc + (<usize>(3 * rank) << 2)), sa = load<i32>(desc + (<usize>(4 * rank) << 2));
  const sb = load<i32>(desc + (<usize>(5 * rank) << 2));
  startIndex(desc, rank, idx, i0);
  let i = i0;
  while (i < i1) {
    const col = load<i32>(idx + (<usize>(rank - 1) << 2));
    const len = min(last - col, i1 - i);
    const pc = at(c, offsetOf(desc, rank, idx, 1)), pa = at(a, offsetOf(desc, rank, idx, 2));
    const pb = at(b, offsetOf(desc, rank, idx, 3)), po = at(out, i);
    for (let j = 0; j < len; j++) {
      store<f32>(at(po, j), load<f32>(at(pc, j * sc)) != 0 ? load<f32>(at(pa, j * sa)) : load<f32>(at(pb, j * sb)));
    }
    i += len;
    nextRun(desc, rank, idx);
  }
}

/** dst[dst view] = src[src view]; descriptor operands: 0 = src strides, 1 = dst strides. */
export function copy(src: usize, srcOffset: i32, dst: usize, dstOffset: i32, n: i32, desc: usize, scratch: usize, tid: i32, nt: i32): void {
  const rank = load<i32>(desc);
  const idx = scratch + (<usize>tid << 6);
  const i0 = share(n, tid, nt, 16), i1 = share(n, tid + 1, nt, 16);
  if (i0 >= i1) return;
  const last = load<i32>(desc + (<usize>rank << 2));
  const ss = load<i32>(desc + (<usize>(3 * rank) << 2)), sd = load<i32>(desc + (<usize>(4 * rank) << 2));
  startIndex(desc, rank, idx, i0);
  let i = i0;
  while (i < i1) {
    const col = load<i32>(idx + (<usize>(rank - 1) << 2));
    const len = min(last - col, i1 - i);
    const ps = at(src, srcOffset + offsetOf(desc, rank, idx, 1)), pd = at(dst, dstOffset + offsetOf(desc, rank, idx, 2));
    let j = 0;
    if (ss == 1 && sd == 1) for (; j + 4 <= len; j += 4) v128.store(at(pd, j), v128.load(at(ps, j)));
    for (; j < len; j++) store<f32>(at(pd, j * sd), load<f32>(at(ps, j * ss)));
    i += len;
    nextRun(desc, rank, idx);
  }
}
