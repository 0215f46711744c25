// GFLOP/s of the WebGPU conv3d kernels (forward, input gradient, weight gradient) at every V-Net layer
// shape (bench/vnet-conv-layers.json). Defaults are the spec's training shapes: batch 4, 112×112×80.
//   node build/bench/webgpu-conv.js [--input D,H,W] [--batch N] [--reps R] [--layers REGEX]
// A software adapter (SwiftShader, ~0.1 GFLOP/s) needs tiny shapes, e.g. --input 32,32,16 --batch 1 --reps 1.
import * as vg from '../index.ts';
import type { BackendBuffer, ConvGeometry } from '../index.ts';
import type { WebGPUBackend } from '../engine/backends/webgpu/backend.ts';
import spec from './vnet-conv-layers.json';

interface Layer { name: string; kind: 'conv' | 'down' | 'up' | 'head'; cin: number; cout: number; level: number; count: number }

function option(name: string, fallback: string): string {
  const at = process.argv.indexOf(`--${name}`);
  return at >= 0 && process.argv[at + 1] !== undefined ? process.argv[at + 1] : fallback;
}

const input = option('input', '112,112,80').split(',').map(Number) as [number, number, number];
const batch = Number(option('batch', '4'));
const reps = Number(option('reps', '5'));
const only = new RegExp(option('layers', '.'));
if (input.length !== 3 || input.some((d) => !(d > 0) || d % 16 !== 0)) {
  throw new Error(`bench/webgpu-conv.ts: --input needs three sizes divisible by 16, got ${option('input', '')}`);
}

const at = (level: number) => input.map((d) => d >> level) as [number, number, number];
const ones: [number, number, number] = [1, 1, 1];
const twos: [number, number, number] = [2, 2, 2];

/** The conv3d geometry of a layer; for `up`, the convolution whose input gradient is the transposed conv. */
function geometry(l: Layer): ConvGeometry {
  const base = { n: batch, dilation: ones };
  switch (l.kind) {
    case 'conv': return { ...base, cin: l.cin, cout: l.cout, in: at(l.level), out: at(l.level), kernel: [3, 3, 3], stride: ones, padding: ones };
    case 'head': return { ...base, cin: l.cin, cout: l.cout, in: at(l.level), out: at(l.level), kernel: ones, stride: ones, padding: [0, 0, 0] };
    case 'down': return { ...base, cin: l.cin, cout: l.cout, in: at(l.level - 1), out: at(l.level), kernel: twos, stride: twos, padding: [0, 0, 0] };
    case 'up': return { ...base, cin: l.cout, cout: l.cin, in: at(l.level), out: at(l.level + 1), kernel: twos, stride: twos, padding: [0, 0, 0] };
  }
}

const vol = (v: number[]) => v[0] * v[1] * v[2];

async function main() {
  await vg.setBackend('webgpu');
  const gpu = vg.getBackend() as WebGPUBackend;
  console.log(`webgpu conv3d benchmark on ${gpu.adapterName}${gpu.software ? ' [software adapter]' : ''}; ` +
              `batch ${batch}, input ${input.join('×')}, ${reps} timed runs each (after one warm-up)`);
  console.log('layer            Cin→Cout  out          pass   ms        GFLOP/s');
  const totals = { ms: 0, flop: 0 };
  for (const layer of (spec.layers as Layer[]).filter((l) => only.test(l.name))) {
    const g = geometry(layer);
    const [x, w, y] = [g.n * g.cin * vol(g.in), g.cout * g.cin * vol(g.kernel), g.n * g.cout * vol(g.out)].map((n) => {
      const b = gpu.alloc(n);
      gpu.fill(b, 0.01);
      return b;
    });
    const dx = gpu.alloc(x.size), dw = gpu.alloc(w.size);
    const flop = 2 * g.cin * g.cout * vol(g.kernel) * g.n * vol(g.out);
    // For `up` the roles turn: its forward is the input-gradient kernel, its input gradient the forward one.
    const passes: [string, () => void][] = layer.kind === 'up'
      ? [['fwd', () => gpu.conv3dBackwardInput(y, w, dx, g)], ['dX', () => gpu.conv3d(x, w, y, g)],
         ['dW', () => gpu.conv3dBackwardWeight(x, y, dw, g)]]
      : [['fwd', () => gpu.conv3d(x, w, y, g)], ['dX', () => gpu.conv3dBackwardInput(y, w, dx, g)],
         ['dW', () => gpu.conv3dBackwardWeight(x, y, dw, g)]];
    for (const [pass, run] of passes) {
      run();
      await gpu.sync();
      const t0 = performance.now();
      for (let i = 0; i < reps; i++) run();
      await gpu.sync();
      const ms = (performance.now() - t0) / reps;
      totals.ms += ms * layer.count;
      totals.flop += flop * layer.count;
      console.log(`${layer.name.padEnd(16)} ${`${layer.cin}→${layer.cout}`.padEnd(9)} ${g.n}×${(layer.kind === 'up' ? g.in : g.out).join('×').padEnd(10)} ` +
                  `${pass.padEnd(6)} ${ms.toFixed(2).padStart(9)} ${(flop / ms / 1e6).toFixed(2).padStart(10)}`);
    }
    for (const b of [x, w, y, dx, dw] as BackendBuffer[]) gpu.free(b);
  }
  console.log(`all layers (× count), forward + both gradients: ${totals.ms.toFixed(1)} ms, ` +
              `${(totals.flop / totals.ms / 1e6).toFixed(2)} GFLOP/s`);
  vg.disposeBackends();
}

await main();
