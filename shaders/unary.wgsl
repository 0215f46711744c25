// out[i] = f(x[i]; a, b). OP picks f when the pipeline is built (numbering: UNARY_OPS in kernels.ts).
override OP: u32;
struct Params { total: u32, grid_x: u32, a: f32, b: f32, zero: u32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;

fn nan() -> f32 { return special(NAN_BITS, p.zero); }

// x ** a as JavaScript defines it: negative bases are allowed for whole exponents.
fn power(v: f32, a: f32) -> f32 {
  if (a == 0.0) { return 1.0; }
  if (v >= 0.0) { return pow(v, a); }
  if (fract(a) != 0.0) { return nan(); }
  let m = pow(-v, a);
  return select(m, -m, abs(a) % 2.0 == 1.0);
}

// tanh through exp(-2|x|), which cannot overflow.
fn stable_tanh(v: f32) -> f32 {
  let t = exp(-2.0 * abs(v));
  return sign(v) * (1.0 - t) / (1.0 + t);
}

fn apply(v: f32) -> f32 {
  switch OP {
    case 0u: { return -v; }
    case 1u: { return exp(v); }
    case 2u: { return select(log(v), nan(), v < 0.0); }
    case 3u: { return select(sqrt(v), nan(), v < 0.0); }
    case 4u: { return abs(v); }
    case 5u: { return stable_tanh(v); }
    case 6u: { return 1.0 / (1.0 + exp(-v)); }
    case 7u: { return relu(v); }
    case 8u: { return v * v; }
    case 9u: { return sign(v); }
    case 10u: { return select(0.0, 1.0, v > 0.0); }
    case 11u: { return power(v, p.a); }
    case 12u: { return select(min(max(v, p.a), p.b), v, is_nan(v)); } // WGSL's max may drop NaN
    case 13u: { return select(0.0, 1.0, v >= p.a && v <= p.b); }
    default: { return p.a * v + p.b; }
  }
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let i = flat_id(wid, lid, p.grid_x);
  if (i < p.total) { out[i] = apply(x[i]); }
}
