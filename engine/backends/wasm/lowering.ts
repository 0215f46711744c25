// The im2col matrix of the lowered convolution routes (conv.ts, skip-padding.ts), described by offset
// tables into the zero-padded input instead of being copied out, the helpers that upload such tables,
// and the zero-padded frames that the shifted-row and Winograd routes read.
import type { ConvGeometry } from '../../backend.ts';
import type { Device } from './device.ts';

type Triple = [number, number, number];

/**
 * The im2col matrix of the lowered routes as offsets into the zero-padded input (floats): per tap, its
 * offset within a padded channel; per output position of the batch, where its window starts. The
 * gather kernels (asm/conv.ts, gemmGather) then need no bounds checks, whatever the volume's size.
 */
export interface Lowering { chan: number; tapOffsets: Uint32Array; starts: Uint32Array }

export const paddedDims = (g: ConvGeometry) => g.in.map((v, i) => v + 2 * g.padding[i]) as Triple;
export const unpadded = (g: ConvGeometry) => g.padding.every((p) => p === 0);

export function lowering(g: ConvGeometry): Lowering {
  const [Dp, Hp, Wp] = paddedDims(g), plane = Hp * Wp, chan = Dp * plane;
  const [kD, kH, kW] = g.kernel, [dD, dH, dW] = g.dilation, [sD, sH, sW] = g.stride, [oD, oH, oW] = g.out;
  const tapOffsets = new Uint32Array(kD * kH * kW);
  let i = 0;
  for (let kd = 0; kd < kD; kd++)
    for (let kh = 0; kh < kH; kh++)
      for (let kw = 0; kw < kW; kw++) tapOffsets[i++] = kd * dD * plane + kh * dH * Wp + kw * dW;
  const starts = new Uint32Array(g.n * oD * oH * oW);
  i = 0;
  for (let b = 0; b < g.n; b++)
    for (let od = 0; od < oD; od++)
      for (let oh = 0; oh < oH; oh++)
        for (let ow = 0; ow < oW; ow++) starts[i++] = b * g.cin * chan + od * sD * plane + oh * sH * Wp + ow * sW;
  return { chan, tapOffsets, starts };
}

/** The batch's input zero-padded as the lowering's offsets expect: x itself when there is no padding. */
export function paddedInput(dev: Device, x: number, g: ConvGeometry, l: Lowering): number {
  if (unpadded(g)) return x;
  const [D, H, W] = g.in, [Dp, Hp, Wp] = paddedDims(g), [pD, pH, pW] = g.padding, channels = g.n * g.cin;
  const xp = dev.temp(channels * l.chan);
  dev.call('window3d', [x, D * H * W, D, H, W, xp, l.chan, Dp, Hp, Wp, -pD, -pH, -pW, channels], channels * l.chan);
  return xp;
}

/** Offsets `step` floats apart. */
export const evenOffsets = (count: number, step: number) => Uint32Array.from({ length: count }, (_, i) => i * step);

/** Runs fn with the arrays uploaded as u32 tables, then releases them. */
export function withTables(dev: Device, arrays: Uint32Array[], fn: (tables: number[]) => void) {
  const tables = arrays.map((a) => dev.table(a));
  fn(tables);
  for (const t of tables) dev.release(t);
}

/** Floats past the frames: kernels that read whole vectors run up to 7 floats past a row's end. */
const FRAME_SLACK = 8;

/** The batch's frames at one address: `channels`·vol floats per sample, zeros in the slack past the last. */
export function frames(dev: Device, src: number, n: number, channels: number, srcDims: Triple, dims: Triple, offset: Triple) {
  const srcVol = srcDims[0] * srcDims[1] * srcDims[2], vol = dims[0] * dims[1] * dims[2], floats = n * channels * vol;
  const ptr = dev.temp(floats + FRAME_SLACK);
  // the batch's channels are consecutive both in src and in the frames: one call takes them all
  dev.call('window3d', [src, srcVol, ...srcDims, ptr, vol, ...dims, ...offset, n * channels], floats);
  dev.call('fill', [ptr + floats * 4, FRAME_SLACK, 0], FRAME_SLACK);
  return { ptr, vol, release: () => dev.release(ptr) };
}
