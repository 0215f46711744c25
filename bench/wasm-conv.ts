// conv3d forward, input gradient and weight gradient on the wasm backend at the V-Net's layer shapes,
// beside PyTorch CPU and tfjs-backend-cpu in the same run (bench/lib/conv-bench.ts). Prints a table and a JSON line.
//   node build/bench/wasm-conv.js [--threads N] [--la] [--no-torch] [--no-tfjs] [--only REGEX] [--rounds R]
// --la adds the LA patch (112×112×80) layers (not timed on tfjs: minutes per op); --only keeps the layers
// whose name matches; --rounds (default 3) is how many times each layer is timed, ours and PyTorch's in turn.
import { availableParallelism } from 'node:os';
import * as vg from '../index.ts';
import { convBench } from './lib/conv-bench.ts';
import { hippocampusLayers, laLayers, type Layer } from './lib/vnet-layers.ts';

const args = process.argv.slice(2);
const flag = (name: string) => args.includes(name);
const threads = Number(args[args.indexOf('--threads') + 1]) || availableParallelism();
const only = flag('--only') ? new RegExp(args[args.indexOf('--only') + 1]) : null;
const keep = (layers: Layer[]) => (only ? layers.filter((l) => only.test(l.name)) : layers);
const hippocampus = keep(hippocampusLayers());
const result = await convBench({
  threads, layers: flag('--la') ? [...hippocampus, ...keep(laLayers())] : hippocampus,
  torch: !flag('--no-torch'), rounds: flag('--rounds') ? Number(args[args.indexOf('--rounds') + 1]) : 3, tfjsLayers: flag('--no-tfjs') ? [] : hippocampus,
});
console.log(JSON.stringify(result));
vg.disposeBackends();
