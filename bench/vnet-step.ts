// One V-Net training step (forward, cross-entropy + SDM penalty, backward) on a voxgrad backend,
// beside PyTorch CPU (bench/torch_vnet_step.py) with the same shape and thread count, in one run.
//   node build/bench/vnet-step.js [--backend wasm] [--threads N] [--batch 2] [--patch 32,48,32] [--filters 16]
// Prints a table and a JSON line; ratio = PyTorch time / voxgrad time (above 1: voxgrad is faster).
import { execFileSync } from 'node:child_process';
import { availableParallelism } from 'node:os';
import * as vg from '../index.ts';

const args = process.argv.slice(2);
const opt = (name: string, dflt: string) => (args.includes(name) ? args[args.indexOf(name) + 1] : dflt);
const backendName = opt('--backend', vg.registeredBackends().includes('wasm') ? 'wasm' : 'ref');
const threads = Number(opt('--threads', String(availableParallelism())));
const batch = Number(opt('--batch', '2'));
const patch = opt('--patch', '32,48,32').split(',').map(Number) as [number, number, number];
const filters = Number(opt('--filters', '16'));
const reps = Number(opt('--reps', '3'));

/** Convolution multiply-adds of one forward pass (ugmcl-spec §8 formulas), for GFLOP/s. */
function forwardMacs(): number {
  const vox = (level: number) => patch.reduce((v, s) => v * (s >> level), 1) * batch;
  const f = filters;
  let macs = 27 * 1 * f * vox(0) + 27 * f * f * vox(0); // block_one, block_nine
  const convs = [[2, 2 * f, 1], [3, 4 * f, 2], [3, 8 * f, 3], [3, 16 * f, 4], [3, 8 * f, 3], [3, 4 * f, 2], [2, 2 * f, 1]];
  for (const [n, c, level] of convs) macs += n * 27 * c * c * vox(level);
  for (let level = 1; level <= 4; level++) macs += 2 * 8 * (f << (level - 1)) * (f << level) * vox(level); // down + up
  return macs + 2 * f * 2 * vox(0); // the two 1×1×1 heads
}

if (backendName === 'wasm') await vg.setWasmThreads(threads);
await vg.setBackend(backendName);
const net = new vg.nn.VNet({ nChannels: 1, nClasses: 2, nFilters: filters, normalization: 'batchnorm', hasDropout: true,
                             heads: 'seg+sdm', seed: 0 });
const gen = new vg.Generator(0);
const x = vg.randn([batch, 1, ...patch], gen);
const y = vg.tensor(Float32Array.from({ length: batch * patch[0] * patch[1] * patch[2] }, () => +(gen.uniform() > 0.5)), [batch, ...patch]);

async function step() {
  const loss = vg.scope(() => {
    const { seg, sdm } = net.forward(x);
    const l = vg.add(vg.crossEntropy(seg, y), vg.mean(vg.square(sdm!)));
    l.backward();
    return vg.detach(l);
  });
  await loss.data(); // waits for the device, where there is one
  loss.dispose();
  net.zeroGrad();
}

await step();
const times: number[] = [];
for (let i = 0; i < reps; i++) {
  const t0 = performance.now();
  await step();
  times.push((performance.now() - t0) / 1000);
}
const ours = Math.min(...times);
const torch = JSON.parse(execFileSync('/usr/bin/python3', ['bench/torch_vnet_step.py', '--threads', String(threads), '--batch',
  String(batch), '--patch', patch.join(','), '--filters', String(filters), '--reps', String(reps)], { encoding: 'utf8' }));
const gflop = (3 * 2 * forwardMacs()) / 1e9; // forward + two backward products per convolution
const result = {
  bench: 'vnet-step', backend: vg.getBackend().name, threads, batch, patch, filters,
  voxgrad: { seconds: ours, gflops: gflop / ours }, pytorch: { version: torch.torch, seconds: torch.seconds, gflops: gflop / torch.seconds },
  ratio: torch.seconds / ours,
};
console.log(`V-Net training step, batch ${batch}, patch ${patch.join('×')}, ${filters} filters, ${threads} threads`);
console.log(`  voxgrad-${result.backend.padEnd(7)} ${ours.toFixed(3)} s  ${(gflop / ours).toFixed(1)} GFLOP/s`);
console.log(`  PyTorch CPU    ${torch.seconds.toFixed(3)} s  ${(gflop / torch.seconds).toFixed(1)} GFLOP/s`);
console.log(`  ratio (PyTorch time / voxgrad time) ${result.ratio.toFixed(2)}`);
console.log(JSON.stringify(result));
vg.disposeBackends();
