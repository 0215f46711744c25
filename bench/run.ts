// The whole benchmark in one run, each figure beside its anchor timed in the same run on the same
// machine: conv3d per V-Net layer (forward, input and weight gradient, transposed convolution), batch
// norm and softmax, the V-Net forward and training step, a whole UG-MCL iteration, and the sliding-
// window segmentation of a real LA scan, against PyTorch (same threads; CPU, or CUDA with
// --anchor-device) and, for conv3d, tfjs-backend-cpu and tfjs-backend-wasm. Prints Markdown; writes
// JSON, Markdown and an SVG of the per-layer ratios where asked.
//   npm run bench [-- --quick] [-- --json FILE] [-- --out DIR] [-- --backend wasm|webgpu|ref] [-- --threads N]
//     [--anchor-device cpu|cuda] [--tf32] [--sections conv,ops,vnet,iteration,inference] [--patch D,H,W] [--no-torch] [--no-tfjs]
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus } from 'node:os';
import { join } from 'node:path';
import * as vg from '../index.ts';
import type { WasmBackend } from '../engine/backends/wasm/backend.ts';
import type { WebGPUBackend } from '../engine/backends/webgpu/backend.ts';
import type { AnchorOptions } from './lib/anchor.ts';
import { convBench } from './lib/conv-bench.ts';
import { inferenceBench } from './lib/inference-bench.ts';
import { iterationBench } from './lib/iteration-bench.ts';
import { opsBench } from './lib/ops-bench.ts';
import { convRatioSvg, convSummary, convTable, mib, timedTable, type TimedRow } from './lib/report.ts';
import { vnetBench } from './lib/vnet-bench.ts';
import { laLayers, vnetLayers, type Triple } from './lib/vnet-layers.ts';

const SECTIONS = ['conv', 'ops', 'vnet', 'iteration', 'inference'] as const;
const USAGE = `usage: npm run bench -- [--quick] [--json FILE] [--out DIR] [--backend B[,B]] [--threads N]
                       [--anchor-device cpu|cuda] [--tf32] [--sections ${SECTIONS.join(',')}] [--patch D,H,W]
                       [--no-torch] [--no-tfjs]
  --quick          the hippocampus patch (32×48×32) only and the half-resolution LA
                   inference (minutes); without it also the LA patch (112×112×80) and full-resolution inference
  --backend        voxgrad backends to time (default: wasm, and webgpu where a hardware adapter is found)
  --threads        wasm threads and PyTorch threads (default: all cores)
  --anchor-device  where PyTorch runs (cuda on a GPU machine; the inference anchor stays on the CPU)
  --patch          replaces the hippocampus patch (sizes divisible by 16), e.g. tiny shapes on a software adapter
Times are medians (min–max); ratio = PyTorch time / voxgrad time (above 1: voxgrad is faster).`;

const args = process.argv.slice(2);
if (args.includes('--help') || args.includes('-h')) { console.log(USAGE); process.exit(0); }
const opt = (name: string) => (args.includes(name) ? args[args.indexOf(name) + 1] : undefined);
const quick = args.includes('--quick');
const threads = Number(opt('--threads') ?? availableParallelism());
const anchorDevice = opt('--anchor-device') ?? 'cpu';
const sections = (opt('--sections') ?? SECTIONS.join(',')).split(',');
for (const s of sections) if (!(SECTIONS as readonly string[]).includes(s)) throw new Error(`bench: unknown section "${s}"\n${USAGE}`);
const patch = (opt('--patch') ?? '32,48,32').split(',').map(Number) as Triple;
if (patch.length !== 3 || patch.some((d) => !(d > 0) || d % 16)) throw new Error(`bench: --patch needs three sizes divisible by 16, got ${opt('--patch')}`);
const anchor: AnchorOptions | null = args.includes('--no-torch') ? null : { threads, device: anchorDevice, tf32: args.includes('--tf32') };
const tfjs = !args.includes('--no-tfjs') && anchorDevice === 'cpu';
const LA_PATCH: Triple = [112, 112, 80];
const laCase = (() => {
  const list = '../shared/data/la/cases', ids = existsSync('configs/splits/la-val-12.list') ? readFileSync('configs/splits/la-val-12.list', 'utf8').split('\n') : [];
  const path = ids[0] ? join(list, ids[0].trim(), 'mri_norm2.h5') : '';
  return path && existsSync(path) ? path : null;
})();
const log = (line: string) => console.error(`[${new Date().toISOString().slice(11, 19)}] ${line}`);

async function defaultBackends(): Promise<string[]> {
  const names = ['wasm'];
  if (vg.registeredBackends().includes('webgpu')) {
    try {
      await vg.setBackend('webgpu');
      if (!(vg.getBackend() as WebGPUBackend).software) names.push('webgpu');
      else log('webgpu: software adapter only (SwiftShader), not timed by default; --backend webgpu times it with --patch 32,32,16');
    } catch (e) { log(`webgpu: no adapter (${(e as Error).message.split('\n')[0]})`); }
  }
  return names;
}

async function useBackend(name: string): Promise<string> {
  if (name === 'wasm') await vg.setWasmThreads(threads);
  await vg.setBackend(name);
  const b = vg.getBackend();
  if (name === 'wasm') { const w = b as WasmBackend; return `wasm, ${w.threads} threads, ${w.device.relaxed ? 'relaxed' : 'plain'} SIMD`; }
  if (name === 'webgpu') { const g = b as WebGPUBackend; return `webgpu on ${g.adapterName}${g.software ? ' (software adapter)' : ''}`; }
  return name;
}

const backends = opt('--backend')?.split(',') ?? await defaultBackends();
const started = new Date();
const results: Record<string, unknown>[] = [];
const markdown: string[] = [
  `# voxgrad benchmark${quick ? ' (quick)' : ''}`, '',
  `${started.toISOString().slice(0, 16).replace('T', ' ')} UTC · ${cpus()[0]?.model ?? 'CPU'} × ${cpus().length} · Node ${process.version} · ` +
  `\`${['npm run bench --', ...args].join(' ')}\``, '',
  'Times are medians (min–max) over all repetitions; ratio = PyTorch time / voxgrad time, above 1 voxgrad is faster. ' +
  'Peak memory: what the voxgrad backend held at most; for PyTorch the process\'s maxRSS (Python and torch included) on the CPU, ' +
  'its peak allocation on a GPU.', '',
];
let svg = '';

for (const name of backends) {
  const described = await useBackend(name);
  log(`backend ${described}`);
  const result: Record<string, unknown> = { backend: name, described };
  markdown.push(`## voxgrad ${described}${anchor ? '' : ' (no PyTorch anchor)'}`, '');
  let torchHeader: unknown;
  const timed = (title: string, rows: TimedRow[]) => markdown.push(`### ${title}`, '', timedTable(rows), '');

  if (sections.includes('conv')) {
    const layers = [...vnetLayers(patch, '', true), ...(quick ? [] : laLayers())];
    const r = await convBench({ anchor, layers, rounds: 3, reps: 5, tfjsLayers: tfjs && name === 'wasm' ? vnetLayers(patch, '', true) : [],
                                tfjsReps: 3, log });
    result.conv = r;
    torchHeader ??= r.torch;
    markdown.push(`### conv3d per layer (batch 2)`, '', convTable(r.rows), '',
                  `Peak memory: voxgrad ${mib(r.memory.oursPeakReservedBytes)}, PyTorch ${mib(r.memory.torchPeakBytes)}.`,
                  ...r.failures.map((f) => `Failed (the layers after it not timed there): ${f}.`), '');
    if (!svg && r.rows.some((x) => x.torch)) svg = convRatioSvg(r.rows, `conv3d per layer: voxgrad ${described} vs PyTorch (${started.toISOString().slice(0, 10)})`);
  }
  if (sections.includes('ops')) {
    const r = await opsBench({ anchor, patch, rounds: 3, reps: 5, log });
    result.ops = r;
    torchHeader ??= r.torch;
    timed(`batch norm (training, forward + backward) and softmax`, r.rows.map((x) => ({
      item: `${x.op} [${x.shape.join(', ')}]`, ours: x.ours, torch: x.torch, oursPeakBytes: x.oursPeakReservedBytes, torchPeakBytes: r.torchPeakBytes })));
  }
  if (sections.includes('vnet')) {
    const settings: Triple[] = quick ? [patch] : [patch, LA_PATCH];
    const rows: TimedRow[] = [];
    result.vnet = [];
    for (const p of settings) {
      const la = p === LA_PATCH;
      const r = await vnetBench({ anchor, batch: 2, patch: p, filters: 16, rounds: la ? 2 : 3, reps: la ? 2 : 3, log });
      (result.vnet as unknown[]).push(r);
      torchHeader ??= r.torch;
      rows.push(...r.rows.map((x) => ({ item: `${x.pass === 'forward' ? 'forward (eval, no gradients)' : 'training step'}, batch 2, ${p.join('×')}`,
                                        ours: x.ours, torch: x.torch, gflop: x.gflop, oursPeakBytes: x.oursPeakReservedBytes, torchPeakBytes: r.torchPeakBytes })));
    }
    timed('V-Net (16 filters, dual head)', rows);
  }
  if (sections.includes('iteration')) {
    const settings: Triple[] = quick ? [patch] : [patch, LA_PATCH];
    const rows: TimedRow[] = [];
    result.iteration = [];
    for (const p of settings) {
      const la = p === LA_PATCH;
      const r = await iterationBench({ anchor, patch: p, filters: 16, rounds: la ? 2 : 3, reps: la ? 1 : 2, log });
      (result.iteration as unknown[]).push(r);
      torchHeader ??= r.torch;
      rows.push(...r.rows.map((x) => ({ item: `UG-MCL iteration, batch 2+2, T = 8, ${p.join('×')}`, ours: x.ours, torch: x.torch,
                                        oursPeakBytes: x.oursPeakReservedBytes, torchPeakBytes: r.torchPeakBytes })));
    }
    timed('One UG-MCL training iteration (student, teacher, 8 uncertainty passes, backward, SGD, EMA)', rows);
  }
  if (sections.includes('inference')) {
    if (!laCase) log('inference: no LA scan at ../shared/data/la/cases (configs/splits/la-val-12.list), section skipped');
    else {
      const setting = quick
        ? { downsample: 2, filters: 8, patch: [64, 64, 48] as Triple, stride: [16, 16, 8] as Triple }
        : { downsample: 1, filters: 16, patch: LA_PATCH, stride: [18, 18, 4] as Triple };
      const r = await inferenceBench({ anchor: anchor && { ...anchor, device: 'cpu' }, case: laCase, ...setting, reps: quick ? 3 : 2, log });
      result.inference = r;
      const x = r.rows[0];
      timed(`Sliding-window segmentation of one LA scan (${x.shape.join('×')}, ${x.windows} windows of ${x.patch.join('×')}, stride ${x.stride.join('/')}` +
            `${x.downsample > 1 ? `, at 1/${x.downsample} resolution and resampled back, as the shipped LA models` : ', full resolution as the paper'}; PyTorch on the CPU)`,
            [{ item: `${x.filters} filters`, ours: x.ours, torch: x.torch, oursPeakBytes: x.oursPeakReservedBytes, torchPeakBytes: r.torchPeakBytes }]);
    }
  }
  if (torchHeader) markdown.splice(markdown.indexOf(`## voxgrad ${described}`) + 1, 0, '',
    `Anchor: PyTorch ${(torchHeader as { torch: string }).torch} on ${(torchHeader as { device: string }).device}, ${threads} threads` +
    `${anchorDevice === 'cuda' ? `, TF32 ${args.includes('--tf32') ? 'on' : 'off'}` : ''}.`);
  result.convSummary = result.conv ? convSummary((result.conv as { rows: Parameters<typeof convSummary>[0] }).rows) : undefined;
  results.push(result);
}
vg.disposeBackends();

const finished = new Date();
markdown.push(`Finished in ${((finished.getTime() - started.getTime()) / 60000).toFixed(1)} min.`);
const text = markdown.join('\n');
console.log(text);
const json = { bench: 'voxgrad', quick, started: started.toISOString(), finished: finished.toISOString(), machine: { cpu: cpus()[0]?.model, cores: cpus().length, node: process.version },
               threads, anchorDevice, args, results };
const jsonPath = opt('--json'), outDir = opt('--out');
if (jsonPath) writeFileSync(jsonPath, `${JSON.stringify(json, null, 1)}\n`);
if (outDir) {
  mkdirSync(outDir, { recursive: true });
  writeFileSync(join(outDir, 'bench.json'), `${JSON.stringify(json, null, 1)}\n`);
  writeFileSync(join(outDir, 'bench.md'), `${text}\n`);
  if (svg) writeFileSync(join(outDir, 'conv-ratios.svg'), `${svg}\n`);
  log(`wrote ${outDir}/bench.json, bench.md${svg ? ', conv-ratios.svg' : ''}`);
}
