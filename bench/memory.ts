// Peak bytes in use of one training iteration of a config (its method, patch, batch and filters on
// synthetic data), on one backend: at the two probe patches the trainer's up-front check runs, the
// straight line through them at the configured patch, and, with --measure, the iteration itself
// (bytes in use beyond what was live before, the optimiser's momentum added).
//   node build/bench/memory.js --config configs/la-16.json [--backend wasm] [--threads N] [--measure] [--checkpoint]
// --backend webgpu-accounting gives webgpu's figures without a GPU: buffers pooled as on a device, no kernel run.
// --measure also lists what holds the bytes at the measured peak (vg.censusAtPeak).
// --checkpoint runs every V-Net block as an activation checkpoint ("model": {"checkpoint": true}).
// Prints a Markdown table and a JSON line.
import * as vg from '../index.ts';
import { formatGiB } from '../engine/memory-meter.ts';
import { loadConfig } from '../train/loop/config-file.ts';
import { extrapolatePeak, measureIterationPeak } from '../train/loop/memory-estimate.ts';
import { createMethod } from '../train/methods/index.ts';

const args = process.argv.slice(2);
const opt = (name: string, dflt?: string) => (args.includes(name) ? args[args.indexOf(name) + 1] : dflt);
const file = opt('--config');
if (!file) throw new Error('--config FILE is required');
const backendName = opt('--backend', 'wasm')!;
if (opt('--threads')) await vg.setWasmThreads(Number(opt('--threads')));
await vg.setBackend(backendName);
const be = vg.getBackend();
const config = loadConfig(file);
if (args.includes('--checkpoint')) config.model.checkpoint = true;
const method = createMethod(config);

const t0 = performance.now();
const line = extrapolatePeak(config, method, be);
const probeSeconds = (performance.now() - t0) / 1000;
let measured: number | null = null, measuredHeld: number | null = null, measureSeconds: number | null = null;
let census: vg.Census | null = null;
if (args.includes('--measure')) {
  const t1 = performance.now();
  ({ result: measured, census } = await vg.censusAtPeak(() => measureIterationPeak(config, method, config.patch, be)));
  measureSeconds = (performance.now() - t1) / 1000;
  // the peaks were reset when the measurement began: what the backend held at most during it, all included
  measuredHeld = be.memory().peakReserved;
}
const largest = be.largestBuffer?.() ?? null;
const result = {
  bench: 'memory', config: file, method: config.method, backend: be.name, patch: config.patch, batch: config.batch,
  filters: config.model.nFilters, checkpoint: config.model.checkpoint ?? false, activationRecompute: true,
  probes: line.probes, extrapolatedBytes: line.bytes, measuredBytes: measured, measuredHeldBytes: measuredHeld, limitBytes: be.memoryLimit ?? null, largestBufferBytes: largest,
  probeSeconds, measureSeconds, census: census && { ...census, rows: census.rows.slice(0, 12) },
};

console.log(`${config.method} iteration of ${file} on ${be.name}: patch ${config.patch.join('×')}, batch ` +
            `${config.batch.labeled}+${method.unlabeled ? config.batch.unlabeled : 0}, ${config.model.nFilters} filters` +
            `${result.checkpoint ? ', blocks checkpointed' : ''}\n`);
console.log('| patch | peak bytes in use | |\n|---|---|---|');
for (const p of line.probes) console.log(`| ${p.patch.join('×')} | ${formatGiB(p.bytes)} | probe |`);
console.log(`| ${config.patch.join('×')} | ${formatGiB(line.bytes)} | the probes' line |`);
if (measured !== null) {
  console.log(`| ${config.patch.join('×')} | ${formatGiB(measured)} | measured (${measureSeconds!.toFixed(0)} s); the backend held ` +
              `${formatGiB(measuredHeld!)} at most, weights and heap gaps included |`);
}
if (be.memoryLimit) console.log(`| | ${formatGiB(be.memoryLimit)} | ${be.name}'s limit |`);
if (largest !== null) console.log(`| | ${formatGiB(largest)} | the largest single buffer asked for |`);
if (census) {
  console.log(`\nAt the peak, ${formatGiB(census.live)} in use; the largest groups of live tensors:\n`);
  console.log('| made by | shape | tensors | bytes |\n|---|---|---|---|');
  for (const r of census.rows.slice(0, 12)) console.log(`| ${r.op} | ${r.shape} | ${r.count} | ${formatGiB(r.bytes)} |`);
  console.log(`| (weights, gradients, optimiser state, kernel scratch: outside any scope) | | | ${formatGiB(census.outsideScopes)} |`);
}
console.log(`\n${JSON.stringify(result)}`);
vg.disposeBackends();
