// Stride-1, dilation-1 3×3×3 convolutions by Winograd F(2×2×2, 3×3×3): each 2×2×2 output tile costs 64
// multiplies per channel pair instead of 216. The input is zero-padded into a frame that holds every
// tile's 4×4×4 patch, transformed to U[64][cin][tiles], multiplied by the transformed weights
// V[64][m][cin] in 64 GEMMs, and transformed back (asm/winograd.ts). Tiles go in chunks of whole tile
// planes so that U and the GEMM results stay a few MiB, near the caches.
import type { Device } from './device.ts';
import { MAX_PARTS } from './pool.ts';

type Triple = [number, number, number];

/** A stride-1 3×3×3 convolution of m output channels over cin input channels, batch n. */
export interface WinogradConv {
  n: number; cin: number; m: number; in: Triple; out: Triple; pad: Triple;
}

/** Floats of U plus the transformed dy that a chunk of tile rows aims at. */
const CHUNK_FLOATS = 1 << 20;
/** Each kernel part keeps 1 KiB of intermediate values. */
const SCRATCH_FLOATS = MAX_PARTS * 256;
/** Slack past U and M: the GEMM tiles and the output transform read a few floats past a row's end. */
const SLACK = 8;
/** Floats between consecutive transform planes beyond their data: one cache line, so planes do not alias. */
const SKEW = 16;

export const tilesOf = (out: Triple) => out.map((o) => Math.ceil(o / 2)) as Triple;

/** Floats of a block's transformed input plus its products: well inside a core's L2 cache. */
const BLOCK_FLOATS = 1 << 17;

/** y = conv(x) with the weights as [m, cin, 3, 3, 3] at a. */
export function winogradConv(dev: Device, x: number, a: number, y: number, p: WinogradConv) {
  const [D, H, W] = p.in, [oD, oH, oW] = p.out, [tD, tH, tW] = tilesOf(p.out), inVol = D * H * W, outVol = oD * oH * oW;
  const [Df, Hf, Wf] = [2 * tD + 2, 2 * tH + 2, 2 * tW + 2], frameVol = Df * Hf * Wf, frameFloats = p.n * p.cin * frameVol;
  const scratch = dev.temp(SCRATCH_FLOATS);
  // output channels in fours (winoWeight's layout)
  const vStride = Math.ceil(p.m / 4) * 4 * p.cin + SKEW, v = dev.temp(64 * vStride);
  dev.call('winoWeight', [a, p.m, p.cin, v, vStride, scratch], 64 * p.m * p.cin);
  const xp = dev.temp(frameFloats + SLACK);
  for (let b = 0; b < p.n; b++) {
    dev.call('window3d', [x + b * p.cin * inVol * 4, inVol, D, H, W, xp + b * p.cin * frameVol * 4, frameVol, Df, Hf, Wf,
                          -p.pad[0], -p.pad[1], -p.pad[2], p.cin], p.cin * frameVol);
  }
  dev.call('fill', [xp + frameFloats * 4, SLACK, 0], SLACK);
  // blocks of whole tile rows; a row of U and C holds a block's tiles plus the 3 that a partial quad spills
  const R = Math.max(1, Math.floor(BLOCK_FLOATS / (64 * (p.cin + p.m) * tW)));
  const ld = Math.ceil((R * tW + 3) / 8) * 8, uF = p.cin * ld + SKEW, cF = p.m * ld + SKEW;
  const slotFloats = 256 + 64 * (uF + cF) + SKEW, nSlots = dev.pool.count;
  // zeroed so that the padding columns the GEMM reads before any block writes them hold numbers
  const slots = dev.temp(nSlots * slotFloats), flags = dev.temp(nSlots);
  dev.call('fill', [slots, nSlots * slotFloats, 0], nSlots * slotFloats);
  dev.call('fill', [flags, nSlots, 0], nSlots);
  dev.call('winoConv', [xp, frameVol, p.cin * frameVol, Hf, Wf, p.cin, p.m, p.n, tD, tH, tW, R, v, vStride, y, outVol,
                        p.m * outVol, oD, oH, oW, slots, slotFloats, ld, uF, cF, flags, nSlots],
           64 * p.m * p.cin * p.n * tD * tH * tW);
  dev.release(flags, nSlots);
  dev.release(slots, nSlots * slotFloats);
  dev.release(xp, frameFloats + SLACK);
  dev.release(v, 64 * vStride);
  dev.release(scratch, SCRATCH_FLOATS);
}

/**
 * dw = the weight gradient of y = conv(x), as [m, cin, 3, 3, 3]: per transform point, the transformed dy
 * (the adjoint of the output transform) times U summed over the tiles, then the adjoint of the weight
 * transform. Partial tiles see zeros in dy past its edge. Tiles go in chunks of whole tile rows of a
 * sample, so that U and the transformed dy stay near the caches.
 */
export function winogradWeightGrad(dev: Device, x: number, dy: number, dw: number, p: WinogradConv) {
  const [D, H, W] = p.in, [oD, oH, oW] = p.out, [tD, tH, tW] = tilesOf(p.out);
  const [Df, Hf, Wf] = [2 * tD + 2, 2 * tH + 2, 2 * tW + 2], frameVol = Df * Hf * Wf;
  const inVol = D * H * W, gradVol = 8 * tD * tH * tW, outVol = oD * oH * oW;
  const scratch = dev.temp(SCRATCH_FLOATS);
  // the sums as E[64][cin][m rounded up to 4] (winoDot's layout)
  const eStride = Math.ceil(p.m / 4) * 4 * p.cin + SKEW, e = dev.temp(64 * eStride);
  dev.call('fill', [e, 64 * eStride, 0], 64 * eStride);
  const xp = dev.temp(p.cin * frameVol + SLACK), dyp = dev.temp(p.m * gradVol + SLACK);
  const rows = tD * tH, nr = Math.max(1, Math.min(rows, Math.floor(CHUNK_FLOATS / (64 * (p.cin + p.m) * tW))));
  const uFloats = 64 * (p.cin * nr * tW + SKEW) + SLACK, dFloats = 64 * (p.m * nr * tW + SKEW) + SLACK;
  const u = dev.temp(uFloats), d = dev.temp(dFloats);
  for (let b = 0; b < p.n; b++) {
    dev.call('window3d', [x + b * p.cin * inVol * 4, inVol, D, H, W, xp, frameVol, Df, Hf, Wf, -p.pad[0], -p.pad[1], -p.pad[2], p.cin],
             p.cin * frameVol);
    dev.call('window3d', [dy + b * p.m * outVol * 4, outVol, oD, oH, oW, dyp, gradVol, 2 * tD, 2 * tH, 2 * tW, 0, 0, 0, p.m],
             p.m * gradVol);
    for (let r = 0; r < rows; r += nr) {
      const n = Math.min(nr, rows - r), T = n * tW, uStride = p.cin * T + SKEW, dStride = p.m * T + SKEW;
      dev.call('winoInput', [xp, frameVol, Hf, Wf, p.cin, r, n, tH, tW, u, T, uStride, scratch], 64 * p.cin * T);
      dev.call('winoGradOutput', [dyp, gradVol, 2 * tH, 2 * tW, p.m, r, n, tH, tW, d, T, dStride], 64 * p.m * T);
      dev.call('winoDot', [p.m, p.cin, T, d, dStride, u, uStride, e, eStride], 64 * p.m * T * p.cin);
    }
  }
  dev.call('winoWeightGrad', [e, eStride, p.m, p.cin, dw, scratch], 64 * p.m * p.cin);
  dev.release(d, dFloats);
  dev.release(u, uFloats);
  dev.release(dyp, p.m * gradVol + SLACK);
  dev.release(xp, p.cin * frameVol + SLACK);
  dev.release(e, 64 * eStride);
  dev.release(scratch, SCRATCH_FLOATS);
}
