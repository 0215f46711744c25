// One whole UG-MCL iteration (batch 2 labelled + 2 unlabelled, T = 8, paper variant) as the trainer
// runs it, beside PyTorch's (bench/torch_ugmcl_iteration.py), alternating by rounds. bench/ugmcl-
// iteration.ts times the same iteration phase by phase.
import * as vg from '../../index.ts';
import { openAnchor, type AnchorOptions } from './anchor.ts';
import { perCall, readCounters } from './host-counters.ts';
import { stat, type Stat } from './stats.ts';
import { ugmclIteration } from './ugmcl-iteration.ts';
import type { Triple } from './vnet-layers.ts';

export interface IterationRow { patch: Triple; filters: number; ours: Stat; torch?: Stat; oursPeakReservedBytes: number; oursPeakLiveBytes: number;
  /** Seconds outside the wait for the loss terms (JavaScript recording, submits), and the backend's counters per iteration. */
  oursHost: Stat; oursPerCall?: Record<string, number> }

export async function iterationBench(o: { anchor: AnchorOptions | null; patch: Triple; filters: number; rounds: number; reps: number; log: (l: string) => void }) {
  const ours = ugmclIteration({ patch: o.patch, filters: o.filters });
  await ours.run(); // warm-up: the heap's size classes and the convolution plans settle in the first iteration
  const anchor = o.anchor
    ? await openAnchor('bench/torch_ugmcl_iteration.py', o.anchor, ['--patch', o.patch.join(','), '--filters', String(o.filters)])
    : null;
  const mine: number[] = [], theirs: number[] = [], host: number[] = [];
  const counters = readCounters(vg.getBackend());
  // each run files its peaks by phase (and resets the backend's marks between phases): the largest of them
  let peakReserved = 0, peakLive = 0;
  for (let round = 0; round < o.rounds; round++) {
    for (let i = 0; i < o.reps; i++) {
      const r = await ours.run();
      mine.push(r.seconds);
      host.push(r.seconds - r.phases['read terms']);
      for (const m of Object.values(r.memory)) { peakReserved = Math.max(peakReserved, m.reserved); peakLive = Math.max(peakLive, m.live); }
    }
    if (anchor) theirs.push(...(await anchor.ask<{ seconds: number[] }>({ op: 'iteration', reps: o.reps })).seconds);
    o.log(`iteration: round ${round + 1}/${o.rounds} at ${o.patch.join('×')} done`);
  }
  ours.dispose();
  const row: IterationRow = { patch: o.patch, filters: o.filters, ours: stat(mine), ...(anchor ? { torch: stat(theirs) } : {}),
                              oursPeakReservedBytes: peakReserved, oursPeakLiveBytes: peakLive,
                              oursHost: stat(host), oursPerCall: perCall(counters, readCounters(vg.getBackend()), mine.length) };
  return { rows: [row], torch: anchor?.header, torchPeakBytes: anchor ? await anchor.close() : undefined };
}
