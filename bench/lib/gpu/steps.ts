// Phase 6: whole steps against PyTorch on the same GPU: the V-Net training step (batch 2) and the
// UG-MCL iteration (2 + 2, T = 8) at the hippocampus and LA patches (bench/lib/vnet-bench.ts,
// iteration-bench.ts), with the backend's dispatches and submits per step, the JavaScript time against
// the whole, and the peak GPU memory of each side.
import { availableParallelism } from 'node:os';
import * as vg from '../../../index.ts';
import { iterationBench } from '../iteration-bench.ts';
import { vnetBench } from '../vnet-bench.ts';
import type { Settings } from './common.ts';

export async function steps(s: Settings) {
  await vg.setBackend('webgpu');
  const anchor = { threads: availableParallelism(), device: s.torchDevice, tf32: false };
  const log = (line: string) => console.error(line);
  // the smoke run's software adapter takes seconds per iteration: fewer samples there
  const reps = s.smoke ? 1 : s.samples;
  const out = [];
  for (const patch of s.stepPatches) {
    const v = await vnetBench({ anchor, batch: 2, patch, filters: s.stepFilters, rounds: 1, reps, log });
    const step = v.rows.find((r) => r.pass === 'step')!;
    out.push({ what: 'V-Net training step', patch, filters: s.stepFilters, batch: 2, ours: step.ours, torch: step.torch, ratio: step.torch ? step.torch.median / step.ours.median : undefined,
               jsSeconds: step.oursEncode, perStep: step.oursPerCall, oursPeakBytes: step.oursPeakReservedBytes, torchPeakBytes: v.torchPeakBytes,
               forward: v.rows.find((r) => r.pass === 'forward') });
    const it = await iterationBench({ anchor, patch, filters: s.stepFilters, rounds: 1, reps, log });
    const row = it.rows[0];
    out.push({ what: 'UG-MCL iteration', patch, filters: s.stepFilters, batch: '2+2, T = 8', ours: row.ours, torch: row.torch, ratio: row.torch ? row.torch.median / row.ours.median : undefined,
               jsSeconds: row.oursHost, perStep: row.oursPerCall, oursPeakBytes: row.oursPeakReservedBytes, torchPeakBytes: it.torchPeakBytes });
  }
  return {
    timing: `wall clock per step, median of ${reps} after a warm-up; jsSeconds: the step's time before it waits for the device (V-Net) or outside the read of the loss terms (UG-MCL)`,
    rows: out,
  };
}
