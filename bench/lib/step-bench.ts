// One V-Net training step (forward, cross-entropy + SDM penalty, backward) on a voxgrad backend, beside
// PyTorch CPU (bench/torch_vnet_step.py) with the same shape and thread count: ours and PyTorch's timed
// in turn over rounds, keeping each one's best, so that the ratio compares steps under the same load.
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import * as vg from '../../index.ts';
import type { Triple } from './vnet-layers.ts';

export interface StepBenchOptions {
  backend: string; threads: number; batch: number; patch: Triple; filters: number; reps: number;
  /** Rounds of (our reps, PyTorch's reps). */
  rounds: number;
}

/** bench/torch_vnet_step.py as a process that times `reps` steps per request. */
async function torchStepTimer(o: StepBenchOptions) {
  const child = spawn('/usr/bin/python3', ['bench/torch_vnet_step.py', '--threads', String(o.threads), '--batch', String(o.batch),
    '--patch', o.patch.join(','), '--filters', String(o.filters), '--reps', String(o.reps)], { stdio: ['pipe', 'pipe', 'inherit'] });
  const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  const next = async () => {
    const line = await lines.next();
    if (line.done) throw new Error(`bench/torch_vnet_step.py exited (code ${child.exitCode})`);
    return JSON.parse(line.value);
  };
  const { torch: version } = await next();
  return {
    version: version as string,
    async time(): Promise<number> { child.stdin.write('time\n'); return (await next()).seconds; },
    close: () => child.stdin.end(),
  };
}

/** Convolution multiply-adds of one forward pass (k³·C_in·C_out per output voxel), for GFLOP/s. */
function forwardMacs({ batch, patch, filters: f }: StepBenchOptions): number {
  const vox = (level: number) => patch.reduce((v, s) => v * (s >> level), 1) * batch;
  let macs = 27 * 1 * f * vox(0) + 27 * f * f * vox(0); // block_one, block_nine
  const convs = [[2, 2 * f, 1], [3, 4 * f, 2], [3, 8 * f, 3], [3, 16 * f, 4], [3, 8 * f, 3], [3, 4 * f, 2], [2, 2 * f, 1]];
  for (const [n, c, level] of convs) macs += n * 27 * c * c * vox(level);
  for (let level = 1; level <= 4; level++) macs += 2 * 8 * (f << (level - 1)) * (f << level) * vox(level); // down + up
  return macs + 2 * f * 2 * vox(0); // the two 1×1×1 heads
}

/** Times our step (best of reps, after one warm-up) and PyTorch's in turn; prints a summary, returns the JSON. */
export async function stepBench(o: StepBenchOptions) {
  if (o.backend === 'wasm') await vg.setWasmThreads(o.threads);
  await vg.setBackend(o.backend);
  const net = new vg.nn.VNet({ nChannels: 1, nClasses: 2, nFilters: o.filters, normalization: 'batchnorm', hasDropout: true,
                               heads: 'seg+sdm', seed: 0 });
  const gen = new vg.Generator(0);
  const voxels = o.batch * o.patch[0] * o.patch[1] * o.patch[2];
  const x = vg.randn([o.batch, 1, ...o.patch], gen);
  const y = vg.tensor(Float32Array.from({ length: voxels }, () => +(gen.uniform() > 0.5)), [o.batch, ...o.patch]);
  const step = async () => {
    const loss = vg.scope(() => {
      const { seg, sdm } = net.forward(x);
      const l = vg.add(vg.crossEntropy(seg, y), vg.mean(vg.square(sdm!)));
      l.backward();
      return vg.detach(l);
    });
    await loss.data(); // waits for the device, where there is one
    loss.dispose();
    net.zeroGrad();
  };
  await step();
  const timer = await torchStepTimer(o);
  let ours = Infinity, theirs = Infinity;
  for (let round = 0; round < o.rounds; round++) {
    for (let i = 0; i < o.reps; i++) {
      const t0 = performance.now();
      await step();
      ours = Math.min(ours, (performance.now() - t0) / 1000);
    }
    theirs = Math.min(theirs, await timer.time());
  }
  timer.close();
  net.dispose();
  for (const t of [x, y]) t.dispose();
  const torch = { torch: timer.version, seconds: theirs };
  const gflop = (3 * 2 * forwardMacs(o)) / 1e9; // forward + two backward products per convolution
  const result = {
    bench: 'vnet-step', backend: vg.getBackend().name, threads: o.threads, batch: o.batch, patch: o.patch, filters: o.filters,
    voxgrad: { seconds: ours, gflops: gflop / ours },
    pytorch: { version: torch.torch, seconds: torch.seconds, gflops: gflop / torch.seconds },
    ratio: torch.seconds / ours,
  };
  console.log(`V-Net training step, batch ${o.batch}, patch ${o.patch.join('×')}, ${o.filters} filters, ${o.threads} threads`);
  console.log(`  voxgrad-${result.backend.padEnd(7)} ${ours.toFixed(3)} s  ${(gflop / ours).toFixed(1)} GFLOP/s`);
  console.log(`  PyTorch CPU    ${torch.seconds.toFixed(3)} s  ${(gflop / torch.seconds).toFixed(1)} GFLOP/s`);
  console.log(`  ratio (PyTorch time / voxgrad time) ${result.ratio.toFixed(2)}`);
  return result;
}
