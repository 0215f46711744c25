// One V-Net training step on a voxgrad backend beside PyTorch CPU, same shape and thread count, in one run.
//   node build/bench/vnet-step.js [--backend wasm] [--threads N] [--batch 2] [--patch 32,48,32] [--filters 16] [--reps 3] [--rounds 3]
// Ours and PyTorch's steps are timed in turn, --reps each per round. Prints a table and a JSON line; ratio = PyTorch time / voxgrad time (above 1: voxgrad is faster).
import { availableParallelism } from 'node:os';
import * as vg from '../index.ts';
import { stepBench } from './lib/step-bench.ts';
import type { Triple } from './lib/vnet-layers.ts';

const args = process.argv.slice(2);
const opt = (name: string, dflt: string) => (args.includes(name) ? args[args.indexOf(name) + 1] : dflt);
const result = await stepBench({
  backend: opt('--backend', vg.registeredBackends().includes('wasm') ? 'wasm' : 'ref'),
  threads: Number(opt('--threads', String(availableParallelism()))),
  batch: Number(opt('--batch', '2')),
  patch: opt('--patch', '32,48,32').split(',').map(Number) as Triple,
  filters: Number(opt('--filters', '16')),
  reps: Number(opt('--reps', '3')),
  rounds: Number(opt('--rounds', '3')),
});
console.log(JSON.stringify(result));
vg.disposeBackends();
