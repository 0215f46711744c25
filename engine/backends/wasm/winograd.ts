// Stride-1, dilation-1 3×3×3 convolutions by Winograd F(2×2×2, 3×3×3): each 2×2×2 output tile costs 64
// multiplies per channel pair instead of 216. The input is zero-padded into a frame that holds every
// tile's 4×4×4 patch, transformed to U[64][cin][tiles], multiplied by the transformed weights
// V[64][m][cin] in 64 GEMMs, and transformed back (asm/winograd.ts). Below 128 × 128 channel pairs one
// fused kernel works through blocks of tile rows that stay in cache; from there on the steps are staged
// over every tile at once, so that each point's weights are read once. The weight gradient goes in
// blocks, straight into its weight transform, or in chunks (winogradWeightGrad).
import type { Device } from './device.ts';
import { MAX_PARTS } from './pool.ts';
import { frames } from './lowering.ts';

type Triple = [number, number, number];

/** A stride-1 3×3×3 convolution of m output channels over cin input channels, batch n. */
export interface WinogradConv {
  n: number; cin: number; m: number; in: Triple; out: Triple; pad: Triple;
}

/**
 * Floats of U plus the transformed dy that a chunk of tile rows aims at: a few MiB, near the caches
 * (one thread: 32→32 @16×24×16 6.6 ms in chunks of 4 MiB, 14 ms in chunks of 16 or 32 MiB).
 */
const CHUNK_FLOATS = 1 << 20;
/** Each kernel part keeps 1 KiB of intermediate values (winoWeight 2 KiB). */
const SCRATCH_FLOATS = MAX_PARTS * 512;
/** Slack past U and D: the kernels read a few floats past a row's end. */
const SLACK = 8;
/** Floats between consecutive transform planes beyond their data: one cache line, so planes do not alias. */
const SKEW = 16;

export const tilesOf = (out: Triple) => out.map((o) => Math.ceil(o / 2)) as Triple;
/** Floats per channel row of T tiles: whole vectors of 8 for the products, after the 3 that a last quad spills. */
const rowPitch = (T: number) => Math.ceil((T + 3) / 8) * 8;

/** Floats of a block's transformed input plus its products (or transformed dy): well inside a core's L2 cache. */
const BLOCK_FLOATS = 1 << 17;
/**
 * Most tiles for which the weight gradient's sums go straight into its weight transform: a part's rows of
 * transformed dy (16 channels × 64 points × tiles) stay in a core's L2 cache.
 */
const DIRECT_TILES = 128;
/** winoGradDirect's scratch per part: 32 KiB of sums, 1 KiB of intermediate values. */
const DIRECT_SCRATCH = 8448;
/** Groups (partial sums) per thread of the blocked weight gradient: enough for the threads to balance. */
const GROUPS_PER_THREAD = 4;

/**
 * Per-thread slots for the blocked kernels: 1 KiB of intermediate values, then 64 planes of `aRows` rows and
 * 64 of `bRows` rows of ld floats, for blocks of R tile rows. Rows hold a block's tiles plus the 3 that a
 * partial quad spills. Zeroed, so that padding read before any block writes it holds numbers.
 */
function slots(dev: Device, aRows: number, bRows: number, tW: number) {
  const R = Math.max(1, Math.floor(BLOCK_FLOATS / (64 * (aRows + bRows) * tW)));
  const ld = rowPitch(R * tW), aF = aRows * ld + SKEW, bF = bRows * ld + SKEW;
  const slotFloats = 256 + 64 * (aF + bF) + SKEW, count = dev.pool.count;
  const ptr = dev.temp(count * slotFloats), flags = dev.temp(count);
  dev.call('fill', [ptr, count * slotFloats, 0], count * slotFloats);
  dev.call('fill', [flags, count, 0], count);
  const release = () => { dev.release(flags); dev.release(ptr); };
  return { R, args: [ptr, slotFloats, ld, aF, bF, flags, count] as const, release };
}

/**
 * Channel pairs from which the forward is staged: with many channels the fused kernel streams the
 * transformed weights (4 MB at 128 × 128, 16 MB at 256 × 256) past every block of tiles. One thread:
 * LA 128→128 @14×14×10 staged 31 against fused 38 ms, 128→128 @4×6×4 1.95 against 2.14 ms, LA 256→256
 * @7×7×5 26–29 against 49 ms; but LA 64→64 @28×28×20 84 against 75 ms.
 */
const STAGED_PAIRS = 128 * 128;

/**
 * y = conv(x) with the weights as [m, cin, 3, 3, 3] at a (flipped: as [cin, m, 3, 3, 3], each kernel
 * reversed, which makes the input gradient of a convolution with weights a). Below STAGED_PAIRS channel
 * pairs fused per block of tiles (winoConv); from there on staged: every tile of the batch transformed,
 * then the 64 products point by point (each point's weights read once), then the output transform.
 */
export function winogradConv(dev: Device, x: number, a: number, y: number, p: WinogradConv, flipped = false) {
  const [oD, oH, oW] = p.out, [tD, tH, tW] = tilesOf(p.out), outVol = oD * oH * oW;
  const [Df, Hf, Wf] = [2 * tD + 2, 2 * tH + 2, 2 * tW + 2];
  const scratch = dev.temp(SCRATCH_FLOATS);
  // output channels in fours (winoWeight's layout)
  const vStride = Math.ceil(p.m / 4) * 4 * p.cin + SKEW, v = dev.temp(64 * vStride);
  const [mStride, kStride] = flipped ? [27, p.m * 27] : [p.cin * 27, 27];
  dev.call('winoWeight', [a, p.m, p.cin, mStride, kStride, +flipped, v, vStride, scratch], 64 * p.m * p.cin);
  const xp = frames(dev, x, p.n, p.cin, p.in, [Df, Hf, Wf], p.pad.map((q) => -q) as Triple);
  const work = 64 * p.m * p.cin * p.n * tD * tH * tW;
  if (p.cin * p.m >= STAGED_PAIRS) {
    const perSample = tD * tH * tW, ld = rowPitch(p.n * perSample);
    const uStride = p.cin * ld + SKEW, cStride = Math.ceil(p.m / 4) * 4 * ld + SKEW;
    const u = dev.temp(64 * uStride + SLACK), c = dev.temp(64 * cStride + SLACK);
    for (let b = 0; b < p.n; b++) {
      dev.call('winoInput', [xp.ptr + b * p.cin * xp.vol * 4, xp.vol, Hf, Wf, p.cin, 0, tD * tH, tH, tW,
                             u + b * perSample * 4, ld, uStride, scratch], 64 * p.cin * perSample);
    }
    dev.call('winoProduct', [v, vStride, p.cin, p.m, u, uStride, ld, p.n * perSample, c, cStride], work);
    dev.call('winoOutput', [c, cStride, ld, p.m, p.n, tD, tH, tW, y, outVol, p.m * outVol, oD, oH, oW, scratch],
             64 * p.m * p.n * perSample);
    dev.release(c);
    dev.release(u);
  } else {
    const slot = slots(dev, p.cin, p.m, tW);
    dev.call('winoConv', [xp.ptr, xp.vol, p.cin * xp.vol, Hf, Wf, p.cin, p.m, p.n, tD, tH, tW, slot.R, v, vStride, y, outVol,
                          p.m * outVol, oD, oH, oW, ...slot.args], work);
    slot.release();
  }
  xp.release();
  dev.release(v);
  dev.release(scratch);
}

/**
 * dw = the weight gradient of y = conv(x), as [m, cin, 3, 3, 3]: per transform point, the transformed dy
 * (the adjoint of the output transform) times U summed over the tiles, then the adjoint of the weight
 * transform. Partial tiles see zeros in dy past its edge. With few channel pairs the sums are small:
 * groups of blocks transform and multiply in cache, each into its own sums (winoGradBlocks). Otherwise
 * the tiles are transformed by all threads: where there are at most DIRECT_TILES, all at once, and their
 * sums go straight into the weight transform (winoGradDirect, over U transposed by winoTransposeU); else
 * in chunks of whole tile rows (across samples) of about chunkFloats values, each adding to a buffer of
 * sums (winoDot).
 */
export function winogradWeightGrad(dev: Device, x: number, dy: number, dw: number, p: WinogradConv,
                                   chunkFloats = CHUNK_FLOATS) {
  const [tD, tH, tW] = tilesOf(p.out), rows = tD * tH, total = p.n * rows;
  const [Df, Hf, Wf] = [2 * tD + 2, 2 * tH + 2, 2 * tW + 2], gradDims: Triple = [2 * tD, 2 * tH, 2 * tW];
  const xp = frames(dev, x, p.n, p.cin, p.in, [Df, Hf, Wf], p.pad.map((q) => -q) as Triple);
  const dyp = frames(dev, dy, p.n, p.m, p.out, gradDims, [0, 0, 0]);
  const blocked = p.cin * p.m < 32 * 32, direct = !blocked && total * tW <= DIRECT_TILES;
  const nr = direct ? total : Math.max(1, Math.min(total, Math.floor(chunkFloats / (64 * (p.cin + p.m) * tW))));
  const scratchFloats = direct ? dev.pool.parts * DIRECT_SCRATCH : SCRATCH_FLOATS, scratch = dev.temp(scratchFloats);
  // the sums as E[64][cin][m rounded up to 4] (winoDot's layout), per group
  const eStride = Math.ceil(p.m / 4) * 4 * p.cin + SKEW, eGroup = 64 * eStride;
  const slot = blocked ? slots(dev, p.cin, p.m, tW) : null;
  const groups = slot ? Math.min(p.n * Math.ceil(rows / slot.R), GROUPS_PER_THREAD * dev.pool.count) : 1;
  const e = direct ? 0 : dev.temp(groups * eGroup);
  if (slot) {
    dev.call('fill', [e, groups * eGroup, 0], groups * eGroup);
    dev.call('winoGradBlocks', [xp.ptr, xp.vol, p.cin * xp.vol, Hf, Wf, dyp.ptr, dyp.vol, p.m * dyp.vol, p.cin, p.m, p.n, tD, tH, tW,
                                slot.R, groups, e, eStride, eGroup, ...slot.args], 64 * p.m * p.cin * total * tW);
    slot.release();
  } else {
    const ld = rowPitch(nr * tW), uStride = p.cin * ld + SKEW, dStride = p.m * ld + SKEW;
    const uFloats = 64 * uStride + SLACK, dFloats = 64 * dStride + SLACK;
    const u = dev.temp(uFloats), d = dev.temp(dFloats);
    for (let g0 = 0; g0 < total; g0 += nr) {
      const g1 = Math.min(total, g0 + nr);
      for (let gr = g0; gr < g1;) {
        const b = Math.floor(gr / rows), r = gr - b * rows, n = Math.min(g1 - gr, rows - r), off = (gr - g0) * tW * 4;
        dev.call('winoInput', [xp.ptr + b * p.cin * xp.vol * 4, xp.vol, Hf, Wf, p.cin, r, n, tH, tW, u + off, ld, uStride,
                               scratch], 64 * p.cin * n * tW);
        dev.call('winoGradOutput', [dyp.ptr + b * p.m * dyp.vol * 4, dyp.vol, 2 * tH, 2 * tW, p.m, r, n, tH, tW, d + off, ld,
                                    dStride], 64 * p.m * n * tW);
        gr += n;
      }
      const T = (g1 - g0) * tW;
      if (direct) {
        // the tiles' rows of U turned into rows of input channels: winoGradDirect's register tiles read 8 of them a step
        const utStride = T * Math.ceil(p.cin / 8) * 8 + SKEW, ut = dev.temp(64 * utStride);
        dev.call('winoTransposeU', [u, uStride, p.cin, T, ld, ut, utStride], 64 * p.cin * T);
        dev.call('winoGradDirect', [p.m, p.cin, T, ld, d, dStride, ut, utStride, dw, scratch], 64 * p.m * T * p.cin);
        dev.release(ut);
      } else dev.call('winoDot', [p.m, p.cin, T, ld, d, dStride, u, uStride, e, eStride, +(g0 > 0)], 64 * p.m * T * p.cin);
    }
    dev.release(d);
    dev.release(u);
  }
  if (!direct) {
    dev.call('winoWeightGrad', [e, eStride, groups, eGroup, p.m, p.cin, dw, scratch], 64 * p.m * p.cin);
    dev.release(e);
  }
  dyp.release();
  xp.release();
  dev.release(scratch);
}
