// The GPU diagnostic, one phase a process so that bench/gpu.sh can time-box each and a timeout in one
// leaves the others' results: each phase writes OUTDIR/phase-N-NAME.json; `report` writes OUTDIR/gpu.md.
//   node build/bench/gpu-diag.js PHASE|report --out OUTDIR [--smoke] [--torch-device cuda|cpu]
// PHASE: environment, correctness, ceilings, layers, ablations, steps (bench/lib/gpu/). --smoke: tiny
// shapes, a software adapter allowed (SwiftShader) and PyTorch on the CPU: a check that it runs.
// Exit status 0 when the phase ran (its checks may still fail: see its JSON), 3 when phase 1 refused
// the adapter, 1 on an error (written to the phase's JSON).
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as vg from '../index.ts';
import { ablations } from './lib/gpu/ablations.ts';
import { ceilings } from './lib/gpu/ceilings.ts';
import { PHASES, settings, writePhase, type PhaseName } from './lib/gpu/common.ts';
import { correctness } from './lib/gpu/correctness.ts';
import { environment } from './lib/gpu/environment.ts';
import { layers } from './lib/gpu/layers.ts';
import { markdown } from './lib/gpu/markdown.ts';
import { steps } from './lib/gpu/steps.ts';

const args = process.argv.slice(2);
const opt = (name: string) => (args.includes(name) ? args[args.indexOf(name) + 1] : undefined);
const phase = args[0];
const out = opt('--out');
if (!out || !phase || !([...PHASES, 'report'] as string[]).includes(phase)) {
  console.error(`usage: node build/bench/gpu-diag.js ${PHASES.join('|')}|report --out OUTDIR [--smoke] [--torch-device cuda|cpu]`);
  process.exit(2);
}
if (phase === 'report') {
  writeFileSync(join(out, 'gpu.md'), markdown(out));
  process.exit(0);
}
const smoke = args.includes('--smoke');
const s = settings(smoke, out, opt('--torch-device') ?? (smoke ? 'cpu' : 'cuda'));
const run: Record<PhaseName, (s: ReturnType<typeof settings>) => Promise<Record<string, unknown>>> =
  { environment, correctness, ceilings, layers, ablations, steps };
const t0 = performance.now();
let status = 0;
try {
  const body = await run[phase as PhaseName](s);
  writePhase(s, phase as PhaseName, { seconds: (performance.now() - t0) / 1000, ...body });
  if (body.refused) {
    console.error(`gpu-diag: the adapter is a software one (${(body.backend as { adapterName: string }).adapterName}): refused outside --smoke`);
    status = 3;
  }
} catch (e) {
  const err = e as Error;
  writePhase(s, phase as PhaseName, { seconds: (performance.now() - t0) / 1000, error: err.message, stack: err.stack });
  console.error(err.stack);
  status = 1;
}
console.log(`gpu-diag: ${phase} done in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
vg.disposeBackends();
process.exit(status);
