// The WebAssembly backend's whole benchmark in one run: conv3d forward and both gradients at the V-Net
// layer shapes of the hippocampus patch (32×48×32) and the LA patch (112×112×80), then one V-Net training
// step (batch 2) at each patch (the LA step's heap passes 2 GiB), each beside PyTorch CPU at the same thread
// count, and conv3d beside tfjs-backend-cpu (hippocampus layers: it takes minutes per op at the LA patch).
// Tables, then one JSON line.
//   node build/bench/wasm.js [--threads N]
import { availableParallelism } from 'node:os';
import * as vg from '../index.ts';
import { convBench } from './lib/conv-bench.ts';
import { stepBench } from './lib/step-bench.ts';
import { hippocampusLayers, laLayers } from './lib/vnet-layers.ts';

const args = process.argv.slice(2);
const threads = Number(args[args.indexOf('--threads') + 1]) || availableParallelism();
const hippocampus = hippocampusLayers();
const conv = await convBench({ threads, layers: [...hippocampus, ...laLayers()], torch: true, rounds: 2, tfjsLayers: hippocampus });
const step = await stepBench({ backend: 'wasm', threads, batch: 2, patch: [32, 48, 32], filters: 16, reps: 3, rounds: 3 });
const laStep = await stepBench({ backend: 'wasm', threads, batch: 2, patch: [112, 112, 80], filters: 16, reps: 1, rounds: 2 });
console.log(JSON.stringify({ bench: 'wasm', conv, step, laStep }));
vg.disposeBackends();
