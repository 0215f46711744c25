// 3D convolution and its two gradients as GEMMs on the kernels of asm/gemm.ts.
// Stride 1 (the 3×3×3 layers): the input is zero-padded once per sample; every kernel tap is then the
// padded volume shifted by a constant, so the GEMM's B rows point straight into it (no im2col). Outputs
// are computed on the padded frame's row pitch and cropped. Other strides (the k=2 s=2 down-convs, the
// transposed up-convs' gradients) build an im2col matrix, which for k = s is just a reshuffle of x.
import type { ConvGeometry } from '../../backend.ts';
import type { Device } from './device.ts';

type Triple = [number, number, number];
const volume = (d: Triple) => d[0] * d[1] * d[2];

/** A stride-1 convolution of m output channels over cin input channels, batch n. */
interface Stride1 {
  n: number; cin: number; m: number;
  in: Triple; out: Triple; kernel: Triple; pad: Triple; dilation: Triple;
}

/** Where a stride-1 plan's padded input frame sits and how the taps shift it. */
function frame(p: Stride1) {
  const [D, H, W] = p.in, [pD, pH, pW] = p.pad;
  const [Dp, Hp, Wp] = [D + 2 * pD, H + 2 * pH, W + 2 * pW];
  const [oD, oH, oW] = p.out, [kD, kH, kW] = p.kernel, [dD, dH, dW] = p.dilation;
  const plane = Hp * Wp;
  const offsets: number[] = [];
  for (let kd = 0; kd < kD; kd++)
    for (let kh = 0; kh < kH; kh++)
      for (let kw = 0; kw < kW; kw++) offsets.push(kd * dD * plane + kh * dH * Wp + kw * dW);
  return {
    padded: [Dp, Hp, Wp] as Triple, padVol: Dp * plane, offsets,
    direct: pD === 0 && pH === 0 && pW === 0,   // x itself is the padded frame
    directOut: Hp === oH && Wp === oW,          // the output pitch is the frame's: no crop
    span: (oD - 1) * plane + (oH - 1) * Wp + oW, // columns from the first to the last output
    pitchVol: oD * plane,                       // per-channel size of an output on the frame's pitch
  };
}

/** B-row table: row (ci, tap) = the padded input of channel ci shifted by the tap's offset. */
function shiftedRows(dev: Device, src: number, cin: number, f: ReturnType<typeof frame>): number {
  const taps = f.offsets.length, rows = new Uint32Array(cin * taps);
  for (let ci = 0; ci < cin; ci++)
    for (let t = 0; t < taps; t++) rows[ci * taps + t] = src + (ci * f.padVol + f.offsets[t]) * 4;
  return dev.table(rows);
}

/** The padded frame of sample b: x itself when unpadded, else a copy into `scratch`. */
function padSample(dev: Device, x: number, p: Stride1, f: ReturnType<typeof frame>, scratch: number): number {
  if (f.direct) return x;
  const [D, H, W] = p.in, [Dp, Hp, Wp] = f.padded, [pD, pH, pW] = p.pad;
  dev.call('window3d', [x, D * H * W, D, H, W, scratch, f.padVol, Dp, Hp, Wp, -pD, -pH, -pW, p.cin], p.cin * f.padVol);
  return scratch;
}

function packed(dev: Device, src: number, rowStride: number, colStride: number, m: number, k: number): number {
  const ap = dev.temp(dev.packedFloats(m, k));
  dev.call('packA', [src, rowStride, colStride, m, k, ap], m * k);
  return ap;
}

/** y = conv(x) for a stride-1 plan, with A (packed [m, cin·taps]) holding the weights. */
function stride1Forward(dev: Device, x: number, ap: number, y: number, p: Stride1) {
  const f = frame(p), K = p.cin * f.offsets.length, inVol = volume(p.in), outVol = volume(p.out);
  const xp = f.direct ? 0 : dev.temp(p.cin * f.padVol);
  const yp = f.directOut ? 0 : dev.temp(p.m * f.pitchVol);
  const [oD, oH, oW] = p.out, [, Hp, Wp] = f.padded;
  for (let b = 0; b < p.n; b++) {
    const yb = y + b * p.m * outVol * 4;
    const rows = shiftedRows(dev, padSample(dev, x + b * p.cin * inVol * 4, p, f, xp), p.cin, f);
    dev.call('gemmRows', [p.m, f.span, K, ap, rows, f.directOut ? yb : yp, f.pitchVol, 0], p.m * f.span * K);
    dev.release(rows, K);
    if (!f.directOut) dev.call('window3d', [yp, f.pitchVol, oD, Hp, Wp, yb, outVol, oD, oH, oW, 0, 0, 0, p.m], p.m * outVol);
  }
  if (xp) dev.release(xp, p.cin * f.padVol);
  if (yp) dev.release(yp, p.m * f.pitchVol);
}

const isStride1 = (g: ConvGeometry) => g.stride.every((s) => s === 1);
const taps = (g: ConvGeometry) => volume(g.kernel);

function geometryDescriptor(dev: Device, g: ConvGeometry): number {
  return dev.describe([g.cin, ...g.in, ...g.kernel, ...g.stride, ...g.padding, ...g.dilation, ...g.out]);
}

/** Rows of an im2col matrix [K, outVol] at col. */
function colRows(dev: Device, col: number, k: number, outVol: number): number {
  const rows = new Uint32Array(k);
  for (let i = 0; i < k; i++) rows[i] = col + i * outVol * 4;
  return dev.table(rows);
}

export function conv3dForward(dev: Device, x: number, w: number, y: number, g: ConvGeometry) {
  const K = g.cin * taps(g), outVol = volume(g.out), inVol = volume(g.in);
  const ap = packed(dev, w, K, 1, g.cout, K);
  if (isStride1(g)) {
    stride1Forward(dev, x, ap, y, { n: g.n, cin: g.cin, m: g.cout, in: g.in, out: g.out, kernel: g.kernel, pad: g.padding, dilation: g.dilation });
  } else {
    const col = dev.temp(K * outVol), rows = colRows(dev, col, K, outVol);
    for (let b = 0; b < g.n; b++) {
      dev.call('im2col', [x + b * g.cin * inVol * 4, geometryDescriptor(dev, g), col], K * outVol);
      dev.call('gemmRows', [g.cout, outVol, K, ap, rows, y + b * g.cout * outVol * 4, outVol, 0], g.cout * outVol * K);
    }
    dev.release(rows, K);
    dev.release(col, K * outVol);
  }
  dev.release(ap, dev.packedFloats(g.cout, K));
}

export function conv3dBackwardInput(dev: Device, dy: number, w: number, dx: number, g: ConvGeometry) {
  const T = taps(g), K = g.cin * T, outVol = volume(g.out), inVol = volume(g.in);
  if (isStride1(g)) {
    // dx is the full correlation of dy with the flipped kernel, channels swapped: A[ci, (co, t)] = w[co, ci, T−1−t]
    const wt = dev.temp(g.cout * K);
    const desc = dev.describe([3, g.cin, g.cout, T, g.cout * T, T, 1, T, K, -1, g.cout * T, T, 1]);
    dev.call('copy', [w, T - 1, wt, 0, g.cout * K, desc, dev.scratch], g.cout * K);
    const ap = packed(dev, wt, g.cout * T, 1, g.cin, g.cout * T);
    dev.release(wt, g.cout * K);
    const pad = g.kernel.map((k, i) => (k - 1) * g.dilation[i] - g.padding[i]) as Triple;
    stride1Forward(dev, dy, ap, dx, { n: g.n, cin: g.cout, m: g.cin, in: g.out, out: g.in, kernel: g.kernel, pad, dilation: g.dilation });
    dev.release(ap, dev.packedFloats(g.cin, g.cout * T));
    return;
  }
  // col[(ci, t), pos] = Σ_co w[co, ci, t]·dy[co, pos], then scattered back onto dx
  const ap = packed(dev, w, 1, K, K, g.cout);
  const col = dev.temp(K * outVol);
  for (let b = 0; b < g.n; b++) {
    const rows = colRows(dev, dy + b * g.cout * outVol * 4, g.cout, outVol);
    dev.call('gemmRows', [K, outVol, g.cout, ap, rows, col, outVol, 0], K * outVol * g.cout);
    dev.release(rows, g.cout);
    dev.call('col2im', [col, geometryDescriptor(dev, g), dx + b * g.cin * inVol * 4], K * outVol);
  }
  dev.release(col, K * outVol);
  dev.release(ap, dev.packedFloats(K, g.cout));
}

export function conv3dBackwardWeight(dev: Device, x: number, dy: number, dw: number, g: ConvGeometry) {
  const K = g.cin * taps(g), outVol = volume(g.out), inVol = volume(g.in);
  dev.call('fill', [dw, g.cout * K, 0], g.cout * K);
  if (isStride1(g)) {
    const p: Stride1 = { n: g.n, cin: g.cin, m: g.cout, in: g.in, out: g.out, kernel: g.kernel, pad: g.padding, dilation: g.dilation };
    const f = frame(p), [oD, oH, oW] = g.out, [, Hp, Wp] = f.padded;
    const xp = f.direct ? 0 : dev.temp(g.cin * f.padVol);
    const dyp = f.directOut ? 0 : dev.temp(g.cout * f.pitchVol);
    for (let b = 0; b < g.n; b++) {
      const rows = shiftedRows(dev, padSample(dev, x + b * g.cin * inVol * 4, p, f, xp), g.cin, f);
      let a = dy + b * g.cout * outVol * 4;
      if (dyp) {
        // dy on the frame's pitch, zeros in the columns that are not outputs
        dev.call('window3d', [a, outVol, oD, oH, oW, dyp, f.pitchVol, oD, Hp, Wp, 0, 0, 0, g.cout], g.cout * f.pitchVol);
        a = dyp;
      }
      dev.call('gemmDot', [g.cout, K, f.span, a, f.pitchVol, rows, dw, K], g.cout * K * f.span);
      dev.release(rows, K);
    }
    if (xp) dev.release(xp, g.cin * f.padVol);
    if (dyp) dev.release(dyp, g.cout * f.pitchVol);
    return;
  }
  const col = dev.temp(K * outVol), rows = colRows(dev, col, K, outVol);
  for (let b = 0; b < g.n; b++) {
    dev.call('im2col', [x + b * g.cin * inVol * 4, geometryDescriptor(dev, g), col], K * outVol);
    dev.call('gemmDot', [g.cout, K, outVol, dy + b * g.cout * outVol * 4, outVol, rows, dw, K], g.cout * K * outVol);
  }
  dev.release(rows, K);
  dev.release(col, K * outVol);
}
