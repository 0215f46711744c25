// The im2col matrix of the lowered convolution routes (conv.ts, skip-padding.ts), described by offset
// tables into the zero-padded input instead of being copied out, and the helpers that upload such tables.
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
  tables.forEach((t, i) => dev.release(t, arrays[i].length));
}
