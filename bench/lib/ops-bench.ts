// Single ops at the V-Net's largest activation (batch 4, 16 channels, the patch) beside PyTorch
// (bench/torch_ops.py): batch normalisation in training mode, forward and backward as every block
// runs it, and the softmax over the classes of a segmentation output.
import * as vg from '../../index.ts';
import { openAnchor, type AnchorOptions } from './anchor.ts';
import { stat, timeSamples, type Stat } from './stats.ts';
import type { Triple } from './vnet-layers.ts';

export interface OpRow { op: string; shape: number[]; ours: Stat; torch?: Stat; oursPeakReservedBytes: number }

export async function opsBench(o: { anchor: AnchorOptions | null; patch: Triple; rounds: number; reps: number; log: (l: string) => void }) {
  const gen = new vg.Generator(0), b = vg.getBackend();
  const bnShape = [4, 16, ...o.patch], smShape = [4, 2, ...o.patch];
  const x = vg.randn(bnShape, gen), dy = vg.randn(bnShape, gen), logits = vg.randn(smShape, gen);
  const weight = vg.ones([16]), bias = vg.zeros([16]), runningMean = vg.zeros([16]), runningVar = vg.ones([16]);
  const ours: Record<string, () => Promise<void>> = {
    batchnorm: async () => {
      const grads = vg.grad((xi, w, bi) => vg.sum(vg.mul(vg.batchNorm(xi, w, bi, runningMean, runningVar), dy)), [x, weight, bias]);
      await grads[0].data();
      for (const g of grads) g.dispose();
    },
    softmax: async () => {
      const y = vg.softmax(logits, 1);
      await y.data();
      y.dispose();
    },
  };
  const anchor = o.anchor ? await openAnchor('bench/torch_ops.py', o.anchor) : null;
  const rows: OpRow[] = [];
  for (const [op, shape] of [['batchnorm', bnShape], ['softmax', smShape]] as const) {
    const mine: number[] = [], theirs: number[] = [];
    b.resetMemoryPeaks();
    for (let round = 0; round < o.rounds; round++) {
      mine.push(...await timeSamples(ours[op], o.reps));
      if (anchor) theirs.push(...(await anchor.ask<{ seconds: number[] }>({ op, shape, reps: o.reps })).seconds);
    }
    rows.push({ op, shape: [...shape], ours: stat(mine), ...(anchor ? { torch: stat(theirs) } : {}), oursPeakReservedBytes: b.memory().peakReserved });
    o.log(`ops: ${op} done`);
  }
  for (const t of [x, dy, logits, weight, bias, runningMean, runningVar]) t.dispose();
  return { rows, torch: anchor?.header, torchPeakBytes: anchor ? await anchor.close() : undefined };
}
