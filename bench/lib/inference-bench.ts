// Sliding-window segmentation of one real LA scan beside PyTorch running the reference's
// test_single_case (bench/torch_inference.py): at full resolution with the paper's patch and stride,
// or, for a model trained at half resolution, on the reduced scan with the probabilities resampled to
// the scan's grid (what `voxgrad predict` runs for the shipped LA models). Weights are the seeded
// initialisation; the time does not depend on them.
import { resolve } from 'node:path';
import * as vg from '../../index.ts';
import { readVolume } from '../../io/files.ts';
import { openAnchor, type AnchorOptions } from './anchor.ts';
import { stat, type Stat } from './stats.ts';
import type { Triple } from './vnet-layers.ts';

export interface InferenceSetting { case: string; downsample: number; filters: number; patch: Triple; stride: Triple }
export interface InferenceRow extends InferenceSetting { shape: number[]; windows: number; ours: Stat; torch?: Stat; oursPeakReservedBytes: number }

export async function inferenceBench(o: InferenceSetting & { anchor: AnchorOptions | null; reps: number; log: (l: string) => void }) {
  const b = vg.getBackend();
  const scan = await readVolume(o.case);
  const net = new vg.nn.VNet({ nChannels: 1, nClasses: 2, nFilters: o.filters, normalization: 'batchnorm', hasDropout: true,
                               heads: 'seg+sdm', seed: 0 });
  let windows = 0;
  const opts = { patch: o.patch, stride: o.stride, normalization: 'none' as const, downsample: o.downsample,
                 onProgress: (_: number, total: number) => { windows = total; } };
  const anchor = o.anchor ? await openAnchor('bench/torch_inference.py', { ...o.anchor, device: 'cpu' }) : null;
  const mine: number[] = [], theirs: number[] = [];
  b.resetMemoryPeaks();
  for (let rep = 0; rep < o.reps; rep++) {
    const t0 = performance.now();
    await vg.predictScan(net, scan, opts);
    mine.push((performance.now() - t0) / 1000);
    if (anchor) {
      const r = await anchor.ask<{ seconds: number[] }>({ op: 'inference', case: resolve(o.case), downsample: o.downsample, filters: o.filters,
                                                           patch: o.patch, stride: o.stride, reps: 1 });
      theirs.push(...r.seconds);
    }
    o.log(`inference: ${rep + 1}/${o.reps} done`);
  }
  net.dispose();
  const row: InferenceRow = { case: o.case, downsample: o.downsample, filters: o.filters, patch: o.patch, stride: o.stride,
                              shape: [...scan.shape], windows, ours: stat(mine), ...(anchor ? { torch: stat(theirs) } : {}),
                              oursPeakReservedBytes: b.memory().peakReserved };
  return { rows: [row], torch: anchor?.header, torchPeakBytes: anchor ? await anchor.close() : undefined };
}
