// Phase 5: where a few layers' time goes. Each pass beside (a) the same GEMM as a plain matmul (what
// the implicit gather costs; N cut to fit one buffer where the full one does not, compared by rate),
// (b) every other GEMM tile the core takes, and for the weight gradient (c) other split-K targets,
// forced through WebGPUBackend.gemmOverride and cleared afterwards.
import * as vg from '../../../index.ts';
import type { BackendBuffer } from '../../../engine/backend.ts';
import type { WebGPUBackend } from '../../../engine/backends/webgpu/backend.ts';
import { PASSES, primitiveOf } from '../conv-bench.ts';
import { geometry } from '../vnet-layers.ts';
import { timePerCall, tflops, type Settings } from './common.ts';
import { phaseLayers, planPass } from './layers.ts';

/** Tiles gemm_core.wgsl compiles for (workgroups of (BM/4)·(BN/4) ≤ 256 threads, WebGPU's default limit). */
const TILES: [number, number][] = [[16, 128], [32, 64], [64, 64], [32, 128], [128, 32]];
/** 1: no split-K at all (what splitting buys); production aims at 512. */
const SPLIT_TARGETS = [1, 64, 128, 2048, 8192];
const PICKED = [/^16→16 /, /^down 16→32/, /^64→64 /, /^256→256 /];
/** Most floats in one operand of the stand-in matmul. */
const MATMUL_MAX_FLOATS = 1 << 27;

const vol = (d: readonly number[]) => d[0] * d[1] * d[2];
const random = (n: number) => Float32Array.from({ length: n }, (_, i) => ((i * 2654435761) % 1000) / 1000 - 0.5);

export async function ablations(s: Settings) {
  await vg.setBackend('webgpu');
  const gpu = vg.getBackend() as WebGPUBackend;
  const sync = () => gpu.sync();
  const time = (call: () => void) => timePerCall(call, sync, s.samples, s.perWait);
  // the smoke run: one small layer that splits K, one variant of each kind (a software adapter takes
  // seconds to build each pipeline variant)
  const picked = s.smoke ? [/^down 16→32/] : PICKED, tiles = s.smoke ? TILES.slice(0, 1) : TILES;
  const splitTargets = s.smoke ? SPLIT_TARGETS.slice(0, 1) : SPLIT_TARGETS;
  const layers = phaseLayers(s).filter((l) => picked.some((re) => re.test(l.name)));
  const out = [];
  for (const l of layers) {
    const g = geometry(l);
    const sizes = [g.n * g.cin * vol(g.in), g.cout * g.cin * vol(g.kernel), g.n * g.cout * vol(g.out)];
    const [x, w, y, dx, dw, dy] = [...sizes, ...sizes].map((n) => { const b = gpu.alloc(n); gpu.write(b, random(n)); return b; });
    const runs = {
      forward: () => gpu.conv3d(x, w, y, g), inputGrad: () => gpu.conv3dBackwardInput(dy, w, dx, g),
      weightGrad: () => gpu.conv3dBackwardWeight(x, dy, dw, g),
    };
    const flop = 2 * g.n * g.cout * vol(g.out) * g.cin * vol(g.kernel);
    for (const pass of PASSES) {
      const prim = planPass[primitiveOf(l)[pass]];
      const plan = gpu.convPlan(prim, g);
      const production = await time(runs[prim]);
      const variants: Record<string, unknown>[] = [];
      try {
        for (const tile of tiles) {
          if (tile[0] === plan.tile[0] && tile[1] === plan.tile[1]) continue;
          gpu.gemmOverride = { tile };
          const t = await time(runs[prim]);
          variants.push({ what: `tile ${tile.join('×')}`, seconds: t.median, tflops: tflops(flop, t.median), vsProduction: production.median / t.median });
        }
        if (prim === 'weightGrad') {
          const seen = new Set([plan.splits]);
          for (const target of splitTargets) {
            gpu.gemmOverride = { splitTargetWorkgroups: target };
            const splits = gpu.convPlan(prim, g).splits;
            if (seen.has(splits)) continue;
            seen.add(splits);
            const t = await time(runs[prim]);
            variants.push({ what: `split-K target ${target} (${splits} splits)`, seconds: t.median, tflops: tflops(flop, t.median),
                            vsProduction: production.median / t.median });
          }
        }
      } finally {
        gpu.gemmOverride = {};
      }
      // the plain matmul of the same M and K (and N, or as much of it as one buffer holds)
      const n = Math.min(plan.n, Math.max(64, Math.floor(Math.min(MATMUL_MAX_FLOATS, gpu.bufferLimit / 4) / (plan.k * plan.batch) / 64) * 64));
      const bufs: BackendBuffer[] = [plan.m * plan.k * plan.batch, plan.k * n * plan.batch, plan.m * n * plan.batch].map((q) => gpu.alloc(q));
      const mm = await time(() => gpu.matmul(bufs[0], bufs[1], bufs[2], plan.batch, plan.m, plan.k, n, false, false));
      bufs.forEach((b) => gpu.free(b));
      const mmRate = tflops(2 * plan.batch * plan.m * plan.k * n, mm.median);
      variants.push({ what: `plain matmul ${plan.batch > 1 ? `${plan.batch}× ` : ''}[${plan.m}×${plan.k}]·[${plan.k}×${n}]${n < plan.n ? ` (N cut from ${plan.n})` : ''}`,
                      seconds: mm.median, tflops: mmRate, vsProduction: mmRate / tflops(flop, production.median), byRate: true });
      out.push({ layer: l.name, pass, primitive: prim, plan: { route: plan.route, m: plan.m, n: plan.n, k: plan.k, tile: plan.tile, splits: plan.splits },
                 production: { seconds: production.median, tflops: tflops(flop, production.median) }, variants });
    }
    [x, w, y, dx, dw, dy].forEach((b) => gpu.free(b));
  }
  return {
    timing: `wall clock, ${s.perWait} calls recorded per wait, median of ${s.samples}; vsProduction: production time / variant time (above 1: the variant is faster; for the matmul, by rate)`,
    skipped: 'vec4 loads (A_VEC/B_VEC) are fixed by each operand\'s layout, not a free choice; BK (16) and the 4×4 per thread are compile-time constants of gemm_core.wgsl: changing them means another kernel',
    rows: out,
  };
}
