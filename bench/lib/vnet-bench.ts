// The dual-head V-Net beside PyTorch (bench/torch_vnet.py), same shape and configuration: its forward
// pass in eval mode without gradients (what inference runs) and one training step (forward, cross-
// entropy + SDM penalty, backward). Ours and PyTorch's alternate by rounds, under the same load.
import * as vg from '../../index.ts';
import { openAnchor, type AnchorOptions } from './anchor.ts';
import { perCall, readCounters } from './host-counters.ts';
import { stat, timeSamples, type Stat } from './stats.ts';
import type { Triple } from './vnet-layers.ts';

export interface VNetRow { pass: 'forward' | 'step'; batch: number; patch: Triple; filters: number; gflop: number; ours: Stat; torch?: Stat; oursPeakReservedBytes: number;
  /** Seconds of JavaScript recording each call (before it waits for the device), and the backend's counters per call. */
  oursEncode: Stat; oursPerCall?: Record<string, number> }

/** Convolution multiply-adds of one forward pass (k³·C_in·C_out per output voxel). */
export function forwardMacs(batch: number, patch: Triple, f: number): number {
  const vox = (level: number) => patch.reduce((v, s) => v * (s >> level), 1) * batch;
  let macs = 27 * 1 * f * vox(0) + 27 * f * f * vox(0); // block_one, block_nine
  const convs = [[2, 2 * f, 1], [3, 4 * f, 2], [3, 8 * f, 3], [3, 16 * f, 4], [3, 8 * f, 3], [3, 4 * f, 2], [2, 2 * f, 1]];
  for (const [n, c, level] of convs) macs += n * 27 * c * c * vox(level);
  for (let level = 1; level <= 4; level++) macs += 2 * 8 * (f << (level - 1)) * (f << level) * vox(level); // down + up
  return macs + 2 * f * 2 * vox(0); // the two 1×1×1 heads
}

export interface VNetBenchOptions {
  anchor: AnchorOptions | null; batch: number; patch: Triple; filters: number; rounds: number; reps: number; log: (l: string) => void;
}

export async function vnetBench(o: VNetBenchOptions) {
  const b = vg.getBackend();
  const net = new vg.nn.VNet({ nChannels: 1, nClasses: 2, nFilters: o.filters, normalization: 'batchnorm', hasDropout: true,
                               heads: 'seg+sdm', seed: 0 });
  const gen = new vg.Generator(0);
  const voxels = o.batch * o.patch[0] * o.patch[1] * o.patch[2];
  const x = vg.randn([o.batch, 1, ...o.patch], gen);
  const y = vg.tensor(Float32Array.from({ length: voxels }, () => +(gen.uniform() > 0.5)), [o.batch, ...o.patch]);
  const encode: number[] = [];
  const ours = {
    forward: async () => {
      const t0 = performance.now();
      net.eval();
      const seg = vg.noGrad(() => vg.scope(() => vg.keep(net.forward(x, { dropout: false }).seg)));
      encode.push((performance.now() - t0) / 1000);
      await seg.data();
      seg.dispose();
    },
    step: async () => {
      const t0 = performance.now();
      net.train();
      const loss = vg.scope(() => {
        const { seg, sdm } = net.forward(x);
        const l = vg.add(vg.crossEntropy(seg, y), vg.mean(vg.square(sdm!)));
        l.backward();
        return vg.detach(l);
      });
      encode.push((performance.now() - t0) / 1000);
      await loss.data(); // waits for the device, where there is one
      loss.dispose();
      net.zeroGrad();
    },
  };
  const anchor = o.anchor ? await openAnchor('bench/torch_vnet.py', o.anchor) : null;
  const macs = forwardMacs(o.batch, o.patch, o.filters);
  const rows: VNetRow[] = [];
  for (const pass of ['forward', 'step'] as const) {
    const mine: number[] = [], theirs: number[] = [];
    await ours[pass](); // the first call builds pipelines and plans: kept out of the encode times and counters
    b.resetMemoryPeaks();
    encode.length = 0;
    const counters = readCounters(b);
    for (let round = 0; round < o.rounds; round++) {
      mine.push(...await timeSamples(ours[pass], o.reps));
      if (anchor) {
        const r = await anchor.ask<{ seconds: number[] }>({ op: pass, batch: o.batch, patch: o.patch, filters: o.filters, reps: o.reps });
        theirs.push(...r.seconds);
      }
    }
    // forward: one product per convolution; a step adds the two of the backward
    const gflop = ((pass === 'forward' ? 1 : 3) * 2 * macs) / 1e9;
    rows.push({ pass, batch: o.batch, patch: o.patch, filters: o.filters, gflop, ours: stat(mine),
                ...(anchor ? { torch: stat(theirs) } : {}), oursPeakReservedBytes: b.memory().peakReserved,
                oursEncode: stat(encode), oursPerCall: perCall(counters, readCounters(b), encode.length) });
    o.log(`vnet: ${pass} at ${o.patch.join('×')} done`);
  }
  net.dispose();
  for (const t of [x, y]) t.dispose();
  return { rows, torch: anchor?.header, torchPeakBytes: anchor ? await anchor.close() : undefined };
}
