// 3D convolution and its two gradients as GEMMs on the kernels of asm/gemm.ts, by one of two routes.
// Shifted rows (stride 1 on large volumes, the 3×3×3 layers near full resolution): the input is
// zero-padded once per sample; every kernel tap is then the padded volume shifted by a constant, so the
// GEMM's B rows point straight into it and no im2col matrix is built. Outputs are computed on the padded
// frame's row pitch (a few wasted columns) and cropped.
// Lowered (other strides, and small volumes where the padded pitch would waste many columns): an
// im2col matrix over the whole batch, so that one GEMM covers every sample; for k = s (the V-Net's
// down-convs and up-convs) it is just a reshuffle of x.
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

/** y = conv(x) for a stride-1 plan, with the weights as a row-major [m, cin·taps] matrix at a. */
function stride1Forward(dev: Device, x: number, a: number, y: number, p: Stride1) {
  const f = frame(p), K = p.cin * f.offsets.length, inVol = volume(p.in), outVol = volume(p.out);
  const xp = f.direct ? 0 : dev.temp(p.cin * f.padVol);
  const yp = f.directOut ? 0 : dev.temp(p.m * f.pitchVol);
  const [oD, oH, oW] = p.out, [, Hp, Wp] = f.padded;
  for (let b = 0; b < p.n; b++) {
    const yb = y + b * p.m * outVol * 4;
    const rows = shiftedRows(dev, padSample(dev, x + b * p.cin * inVol * 4, p, f, xp), p.cin, f);
    dev.call('gemmRows', [p.m, f.span, K, a, K, rows, f.directOut ? yb : yp, f.pitchVol, 0], p.m * f.span * K);
    dev.release(rows, K);
    if (!f.directOut) dev.call('window3d', [yp, f.pitchVol, oD, Hp, Wp, yb, outVol, oD, oH, oW, 0, 0, 0, p.m], p.m * outVol);
  }
  if (xp) dev.release(xp, p.cin * f.padVol);
  if (yp) dev.release(yp, p.m * f.pitchVol);
}

const isStride1 = (g: ConvGeometry) => g.stride.every((s) => s === 1);
const taps = (g: ConvGeometry) => volume(g.kernel);
/** Shifted rows are dropped once the padded pitch wastes more than this share of extra columns. */
const MAX_PITCH_WASTE = 1.6;

function stride1Plan(g: ConvGeometry): Stride1 {
  return { n: g.n, cin: g.cin, m: g.cout, in: g.in, out: g.out, kernel: g.kernel, pad: g.padding, dilation: g.dilation };
}

function useLowered(g: ConvGeometry): boolean {
  return !isStride1(g) || frame(stride1Plan(g)).span > MAX_PITCH_WASTE * volume(g.out);
}

function geometryDescriptor(dev: Device, g: ConvGeometry): number {
  return dev.describe([g.cin, ...g.in, ...g.kernel, ...g.stride, ...g.padding, ...g.dilation, ...g.out]);
}

/** A u32 table of `count` row addresses `pitch` floats apart from base. */
function evenRows(dev: Device, base: number, count: number, pitch: number): number {
  const rows = new Uint32Array(count);
  for (let i = 0; i < count; i++) rows[i] = base + i * pitch * 4;
  return dev.table(rows);
}

/** [n, c, vol] ↔ [c, n, vol]: batch-major tensors to the channel-major layout of the lowered GEMMs. */
function swapBatchAndChannels(dev: Device, src: number, dst: number, n: number, c: number, vol: number, toChannelMajor: boolean) {
  const batchMajor = [vol, c * vol, 1], channelMajor = [n * vol, vol, 1]; // strides over [c, n, vol]
  const [from, to] = toChannelMajor ? [batchMajor, channelMajor] : [channelMajor, batchMajor];
  const desc = dev.describe([3, c, n, vol, n * vol, vol, 1, ...from, ...to]);
  dev.call('copy', [src, 0, dst, 0, n * c * vol, desc, dev.scratch], n * c * vol);
}

/** dy as [cout, n·outVol]; the caller releases it when it is not dy itself (n > 1). */
function channelMajor(dev: Device, t: number, g: ConvGeometry, c: number, vol: number): number {
  if (g.n === 1) return t;
  const out = dev.temp(g.n * c * vol);
  swapBatchAndChannels(dev, t, out, g.n, c, vol, true);
  return out;
}

function loweredForward(dev: Device, x: number, w: number, y: number, g: ConvGeometry) {
  const K = g.cin * taps(g), outVol = volume(g.out), inVol = volume(g.in), L = g.n * outVol;
  const col = dev.temp(K * L);
  for (let b = 0; b < g.n; b++) {
    dev.call('im2col', [x + b * g.cin * inVol * 4, geometryDescriptor(dev, g), col + b * outVol * 4, L, 1], K * outVol);
  }
  const rows = evenRows(dev, col, K, L), ym = g.n === 1 ? y : dev.temp(g.cout * L);
  dev.call('gemmRows', [g.cout, L, K, w, K, rows, ym, L, 0], g.cout * L * K);
  if (ym !== y) {
    swapBatchAndChannels(dev, ym, y, g.n, g.cout, outVol, false);
    dev.release(ym, g.cout * L);
  }
  dev.release(rows, K);
  dev.release(col, K * L);
}

/** Below this many output positions in the batch, the lowered gradients take their transposed forms. */
const SHORT_REDUCTION = 2048;

function loweredBackwardInput(dev: Device, dy: number, w: number, dx: number, g: ConvGeometry) {
  const K = g.cin * taps(g), outVol = volume(g.out), inVol = volume(g.in), L = g.n * outVol;
  const geom = () => geometryDescriptor(dev, g);
  if (L < SHORT_REDUCTION) {
    // colT[(b, pos), (ci, t)] = Σ_co dy[b, co, pos]·w[co, ci, t]: w's rows serve as B as they are
    const dyT = dev.temp(L * g.cout);
    const desc = dev.describe([3, g.n, outVol, g.cout, outVol * g.cout, g.cout, 1, g.cout * outVol, 1, outVol, outVol * g.cout, g.cout, 1]);
    dev.call('copy', [dy, 0, dyT, 0, L * g.cout, desc, dev.scratch], L * g.cout);
    const rows = evenRows(dev, w, g.cout, K), colT = dev.temp(L * K);
    dev.call('gemmRows', [L, K, g.cout, dyT, g.cout, rows, colT, K, 0], L * K * g.cout);
    for (let b = 0; b < g.n; b++) dev.call('col2im', [colT + b * outVol * K * 4, geom(), 1, K, dx + b * g.cin * inVol * 4], K * outVol);
    dev.release(colT, L * K);
    dev.release(rows, g.cout);
    dev.release(dyT, L * g.cout);
    return;
  }
  // col[(ci, t), (b, pos)] = Σ_co w[co, ci, t]·dy[b, co, pos], then scattered back onto dx
  const wT = dev.transposed(w, g.cout, K);
  const dym = channelMajor(dev, dy, g, g.cout, outVol);
  const rows = evenRows(dev, dym, g.cout, L), col = dev.temp(K * L);
  dev.call('gemmRows', [K, L, g.cout, wT, g.cout, rows, col, L, 0], K * L * g.cout);
  for (let b = 0; b < g.n; b++) dev.call('col2im', [col + b * outVol * 4, geom(), L, 1, dx + b * g.cin * inVol * 4], K * outVol);
  dev.release(col, K * L);
  dev.release(rows, g.cout);
  if (dym !== dy) dev.release(dym, g.cout * L);
  dev.release(wT, K * g.cout);
}

function loweredBackwardWeight(dev: Device, x: number, dy: number, dw: number, g: ConvGeometry) {
  const K = g.cin * taps(g), outVol = volume(g.out), inVol = volume(g.in), L = g.n * outVol;
  if (L >= SHORT_REDUCTION) {
    // dw[co, k] = Σ_l dy[co, l]·col[k, l]: dot products along the long reduction
    const col = dev.temp(K * L);
    for (let b = 0; b < g.n; b++) {
      dev.call('im2col', [x + b * g.cin * inVol * 4, geometryDescriptor(dev, g), col + b * outVol * 4, L, 1], K * outVol);
    }
    const dym = channelMajor(dev, dy, g, g.cout, outVol), rows = evenRows(dev, col, K, L);
    dev.call('fill', [dw, g.cout * K, 0], g.cout * K);
    dev.call('gemmDot', [g.cout, K, L, dym, L, rows, dw, K], g.cout * K * L);
    if (dym !== dy) dev.release(dym, g.cout * L);
    dev.release(rows, K);
    dev.release(col, K * L);
    return;
  }
  // short reduction: dw[co, k] = Σ_l dy[co, l]·colT[l, k], the transposed im2col giving B rows along k
  const colT = dev.temp(L * K);
  for (let b = 0; b < g.n; b++) {
    dev.call('im2col', [x + b * g.cin * inVol * 4, geometryDescriptor(dev, g), colT + b * outVol * K * 4, 1, K], K * outVol);
  }
  const dym = channelMajor(dev, dy, g, g.cout, outVol);
  const rows = evenRows(dev, colT, L, K);
  dev.call('gemmRows', [g.cout, K, L, dym, L, rows, dw, K, 0], g.cout * K * L);
  if (dym !== dy) dev.release(dym, g.cout * L);
  dev.release(rows, L);
  dev.release(colT, L * K);
}

export function conv3dForward(dev: Device, x: number, w: number, y: number, g: ConvGeometry) {
  if (useLowered(g)) loweredForward(dev, x, w, y, g);
  else stride1Forward(dev, x, w, y, stride1Plan(g));
}

export function conv3dBackwardInput(dev: Device, dy: number, w: number, dx: number, g: ConvGeometry) {
  if (useLowered(g)) return loweredBackwardInput(dev, dy, w, dx, g);
  // dx is the full correlation of dy with the flipped kernel, channels swapped: A[ci, (co, t)] = w[co, ci, T−1−t]
  const T = taps(g), K = g.cin * T;
  const wt = dev.temp(g.cout * K);
  const desc = dev.describe([3, g.cin, g.cout, T, g.cout * T, T, 1, T, K, -1, g.cout * T, T, 1]);
  dev.call('copy', [w, T - 1, wt, 0, g.cout * K, desc, dev.scratch], g.cout * K);
  const pad = g.kernel.map((k, i) => (k - 1) * g.dilation[i] - g.padding[i]) as Triple;
  stride1Forward(dev, dy, wt, dx, { n: g.n, cin: g.cout, m: g.cin, in: g.out, out: g.in, kernel: g.kernel, pad, dilation: g.dilation });
  dev.release(wt, g.cout * K);
}
export function conv3dBackwardWeight(dev: Device, x: number, dy: number, dw: number, g: ConvGeometry) {
  if (useLowered(g)) return loweredBackwardWeight(dev, x, dy, dw, g);
  const K = g.cin * taps(g), outVol = volume(g.out), inVol = volume(g.in);
  dev.call('fill', [dw, g.cout * K, 0], g.cout * K);
  const p = stride1Plan(g), f = frame(p), [oD, oH, oW] = g.out, [, Hp, Wp] = f.padded;
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
}
