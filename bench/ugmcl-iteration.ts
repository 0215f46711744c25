// One UG-MCL training iteration on a voxgrad backend beside PyTorch CPU, same shape and thread count, in one run.
//   node build/bench/ugmcl-iteration.js [--backend wasm] [--threads N] [--patch 32,48,32] [--filters 16] [--reps 2] [--rounds 3]
//                                       [--keep-activations] [--host-costs]
// --keep-activations switches off the recomputation of normalisation and elementwise outputs in
// backward (vg.setActivationRecompute(false)), to measure what it saves and costs.
// --host-costs (webgpu only) skips PyTorch and prints, per iteration after the warm-up, a JSON line of
// the backend's host-side counters (WebGPUBackend.stats(): dispatches, bind groups, submits, read-backs,
// JavaScript seconds encoding and submitting, seconds waiting on read-backs) and then exits.
// Batch 2 labelled + 2 unlabelled, T = 8 uncertainty passes, paper variant; bench/lib/ugmcl-iteration.ts
// is ours, bench/torch_ugmcl_iteration.py PyTorch's. Each round times --reps iterations of ours, then
// --reps of PyTorch's, so both run under the same load; a round's figure is the median of its reps.
// Prints Markdown tables and a JSON line; ratio = PyTorch time / voxgrad time (above 1: voxgrad is faster).
import { availableParallelism } from 'node:os';
import * as vg from '../index.ts';
import type { WebGPUBackend } from '../engine/backends/webgpu/backend.ts';
import { openAnchor } from './lib/anchor.ts';
import { LABELED, PHASES, UNLABELED, ugmclIteration, type IterationTimes, type Phase } from './lib/ugmcl-iteration.ts';
import type { Triple } from './lib/vnet-layers.ts';

const args = process.argv.slice(2);
const opt = (name: string, dflt: string) => (args.includes(name) ? args[args.indexOf(name) + 1] : dflt);
const o = {
  backend: opt('--backend', vg.registeredBackends().includes('wasm') ? 'wasm' : 'ref'),
  threads: Number(opt('--threads', String(availableParallelism()))),
  patch: opt('--patch', '32,48,32').split(',').map(Number) as Triple,
  filters: Number(opt('--filters', '16')),
  reps: Number(opt('--reps', '2')),
  rounds: Number(opt('--rounds', '3')),
  recompute: !args.includes('--keep-activations'),
};

const median = (v: number[]) => {
  const s = [...v].sort((a, b) => a - b), h = s.length >> 1;
  return s.length % 2 ? s[h] : (s[h - 1] + s[h]) / 2;
};
const summary = (perRound: number[]) => ({ seconds: median(perRound), min: Math.min(...perRound), max: Math.max(...perRound), rounds: perRound });

if (o.backend === 'wasm') await vg.setWasmThreads(o.threads);
await vg.setBackend(o.backend);
vg.setActivationRecompute(o.recompute);
const ours = ugmclIteration(o);
await ours.run(); // warm-up: the heap's size classes and the convolution plans settle in the first iteration
if (args.includes('--host-costs')) {
  const gpu = vg.getBackend() as WebGPUBackend;
  if (!gpu.stats) throw new Error(`--host-costs needs the webgpu backend, not ${gpu.name}`);
  for (let i = 0; i < o.reps; i++) {
    const before = gpu.stats();
    const { seconds } = await ours.run();
    const after = gpu.stats();
    const delta = Object.fromEntries(Object.entries(after).map(([k, v]) => [k, v - before[k as keyof typeof before]]));
    console.log(JSON.stringify({ bench: 'ugmcl-iteration host costs', adapter: gpu.adapterName, patch: o.patch,
                                 filters: o.filters, iteration: i + 1, seconds, ...delta }));
  }
  ours.dispose();
  vg.disposeBackends();
  process.exit(0);
}
const torch = await openAnchor('bench/torch_ugmcl_iteration.py', { threads: o.threads, device: 'cpu' },
  ['--patch', o.patch.join(','), '--filters', String(o.filters)]);
const ourRounds: number[] = [], theirRounds: number[] = [], theirBatch: number[] = [], all: IterationTimes[] = [];
for (let round = 0; round < o.rounds; round++) {
  const times: IterationTimes[] = [];
  for (let i = 0; i < o.reps; i++) times.push(await ours.run());
  ourRounds.push(median(times.map((x) => x.seconds)));
  all.push(...times);
  const reply = await torch.ask<{ seconds: number[]; batch: number[] }>({ op: 'iteration', reps: o.reps });
  theirRounds.push(median(reply.seconds));
  theirBatch.push(...reply.batch);
}
const torchRss = await torch.close();
const sdfSeconds = ours.sdfSeconds();
const { census } = await vg.censusAtPeak(() => ours.run());
ours.dispose();
// per phase the largest over every timed iteration; the iteration's peak is the largest phase's
const phaseMemory = Object.fromEntries(PHASES.map((p) => [p, {
  live: Math.max(...all.map((x) => x.memory[p].live)), reserved: Math.max(...all.map((x) => x.memory[p].reserved)),
}])) as Record<Phase, { live: number; reserved: number }>;
const memory = {
  peakLiveBytes: Math.max(...PHASES.map((p) => phaseMemory[p].live)),
  peakReservedBytes: Math.max(...PHASES.map((p) => phaseMemory[p].reserved)),
  maxRssBytes: process.resourceUsage().maxRSS * 1024,
  phases: phaseMemory,
  /** What held the bytes at the peak of one more iteration: the largest groups of live tensors. */
  census: { live: census.live, outsideScopes: census.outsideScopes, rows: census.rows.slice(0, 12) },
};

const phases = Object.fromEntries(PHASES.map((p) => [p, median(all.map((x) => x.phases[p]))])) as Record<Phase, number>;
const voxgrad = { ...summary(ourRounds), phases, drawSeconds: median(all.map((x) => x.drawSeconds)), sdfSeconds, memory };
const pytorch = { version: torch.header.torch, ...summary(theirRounds), batchSeconds: median(theirBatch), maxRssBytes: torchRss };
const result = {
  bench: 'ugmcl-iteration', backend: vg.getBackend().name, threads: o.threads, batch: { labeled: LABELED, unlabeled: UNLABELED },
  patch: o.patch, filters: o.filters, passes: 8, reps: o.reps, activationRecompute: o.recompute, voxgrad, pytorch,
  ratio: pytorch.seconds / voxgrad.seconds, roundRatios: theirRounds.map((s, i) => s / ourRounds[i]),
};

const s = (x: number) => `${x.toFixed(3)} s`;
const mib = (b: number | undefined) => (b === undefined ? '–' : `${(b / 1024 ** 2).toFixed(0)} MiB`);
const spread = (x: { seconds: number; min: number; max: number }) => `${s(x.seconds)} (${x.min.toFixed(3)}–${x.max.toFixed(3)})`;
console.log(`UG-MCL iteration, batch ${LABELED}+${UNLABELED}, T = 8, patch ${o.patch.join('×')}, ${o.filters} filters, ` +
            `${o.threads} threads, median (min–max) of ${o.rounds} rounds × ${o.reps}` +
            `${o.recompute ? '' : ', activations kept (no recomputation)'}\n`);
console.log(`| | voxgrad-${result.backend} | PyTorch ${torch.header.torch} CPU | ratio |\n|---|---|---|---|`);
console.log(`| iteration | ${spread(voxgrad)} | ${spread(pytorch)} | ${result.ratio.toFixed(2)}× |`);
console.log(`| of which batch (crop + SDF) | ${s(phases['batch (crop + SDF)'])} | ${s(pytorch.batchSeconds)} | |`);
console.log(`| peak memory | ${mib(memory.peakReservedBytes)} held by the backend (${mib(memory.peakLiveBytes)} in use); ` +
            `process maxRSS ${mib(memory.maxRssBytes)} | process maxRSS ${mib(torchRss)} | ` +
            `${(torchRss / memory.peakReservedBytes).toFixed(2)}× |\n`);
console.log(`| our phase | median | share | peak in use | peak held |\n|---|---|---|---|---|`);
for (const p of PHASES) {
  console.log(`| ${p} | ${s(phases[p])} | ${((100 * phases[p]) / voxgrad.seconds).toFixed(1)}% | ` +
              `${mib(phaseMemory[p].live)} | ${mib(phaseMemory[p].reserved)} |`);
}
console.log(`| (JS noise and dropout-mask draws, in the forward phases) | ${s(voxgrad.drawSeconds)} | ` +
            `${((100 * voxgrad.drawSeconds) / voxgrad.seconds).toFixed(1)}% |`);
console.log(`| (computeSdf of the 2 labels, timed apart, in the batch phase) | ${s(sdfSeconds)} | ` +
            `${((100 * sdfSeconds) / voxgrad.seconds).toFixed(1)}% |\n`);
console.log(`At the peak of one more iteration, ${mib(census.live)} in use: the largest groups of live tensors\n`);
console.log(`| made by | shape | tensors | bytes |\n|---|---|---|---|`);
for (const r of census.rows.slice(0, 8)) console.log(`| ${r.op} | ${r.shape} | ${r.count} | ${mib(r.bytes)} |`);
console.log(`| (weights, gradients, optimiser state, kernel scratch: outside any scope) | | | ${mib(census.outsideScopes)} |\n`);
console.log(JSON.stringify(result));
vg.disposeBackends();
