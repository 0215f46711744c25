// The diagnostic's phases as one Markdown page (OUT/gpu.md): a table per phase that finished, and a
// line for each that did not.
import { PHASES, readPhase } from './common.ts';

/** A phase's JSON, as bench/lib/gpu/*.ts wrote it: read loosely, each table guarded by markdown()'s try. */
type J = Record<string, any>;
const f = (v: number | undefined | null, digits = 2) => (v === undefined || v === null || !Number.isFinite(v) ? '–' : v.toFixed(digits));
const ms = (s: number | undefined) => (s === undefined ? '–' : (s * 1000).toFixed(s < 0.01 ? 3 : 1));
const mib = (b: number | undefined) => (b === undefined ? '–' : (b / 2 ** 20).toFixed(0));
const table = (head: string[], rows: (string | number)[][]) =>
  [`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`, ...rows.map((r) => `| ${r.join(' | ')} |`)].join('\n');

const sections: Record<(typeof PHASES)[number], (j: J) => string> = {
  environment: (j) => table(['adapter', 'software', 'subgroups', 'timestamp-query', 'driver', 'max buffer (MiB)'], [[
    j.backend.adapterName, `${j.backend.software}${j.refused ? ' (refused)' : ''}`, `${j.subgroups.min ?? '?'}–${j.subgroups.max ?? '?'}`,
    String(j.timestampQuery), j.driver.nvidiaSmi ? `${j.driver.nvidiaSmi.name}, driver ${j.driver.nvidiaSmi.driver}` : '–', mib(j.limits.maxBufferSize)]]),
  correctness: (j) => table(['check', 'result', 'detail'], [
    ['ReLU(NaN)', j.relu.pass ? 'pass' : 'FAIL', j.relu.got.join(', ')],
    ...j.reductions.map((r: J) => [`max/argmax with NaN, ${r.length} long (${r.path}) vs ref`, r.pass ? 'pass' : 'FAIL',
                                   `max ${r.max.got.join(', ')}; argmax ${r.argmax.got.join(', ')}` +
                                   (r.torchSemantics ? '' : ` (PyTorch: argmax ${r.argmax.torch.join(', ')})`)]),
    ...(['matmul', 'weightGrad'] as const).map((k) => {
      const r = j.longK[k];
      return [`long K = ${r.k} ${k}`, r.compensated ? 'compensated' : 'NOT compensated',
              `${f(r.relErrorUlps, 1)} ulp of the largest (a plain float32 sum: ${f(r.plainFloat32Ulps, 1)})`];
    }),
    [`V-Net ${j.vnet.patch.join('×')} vs ref`, j.vnet.pass ? 'pass' : 'FAIL',
     `forward ${j.vnet.forwardError.toExponential(1)}, gradients ${j.vnet.gradientError.toExponential(1)} (${j.vnet.worstGradient})`],
  ]),
  ceilings: (j) => table(['ceiling', 'ms', 'rate'], [
    [`PyTorch SGEMM ${j.size}³ (${j.torch.device ?? j.torch.error}, TF32 off)`, ms(j.torch.seconds), `${f(j.torch.tflops)} TFLOP/s`],
    [`plain vec4 WGSL SGEMM ${j.size}³ (rel. error ${f(j.plainWgsl.row0RelError * 1e6, 2)}e-6)`, ms(j.plainWgsl.seconds.median), `${f(j.plainWgsl.tflops)} TFLOP/s`],
    [`our matmul (gemm_core.wgsl) ${j.size}³`, ms(j.oursMatmul.seconds.median), `${f(j.oursMatmul.tflops)} TFLOP/s`],
    [`copyBufferToBuffer ${mib(j.copy.bytes)} MiB`, ms(j.copy.seconds.median), `${f(j.copy.gbPerSecond, 0)} GB/s`],
  ]),
  layers: (j) => `batch ${j.batch} × ${j.patch.join('×')}; ${j.timing}\n\n` + table(
    ['layer', 'pass', 'M×N×K (batch)', 'tile', 'vec A/B', 'splits', 'ours ms', 'cuDNN ms', 'ours TFLOP/s', 'cuDNN/ours', 'of SGEMM'],
    j.rows.map((r: J) => [r.layer, r.pass, `${r.plan.m}×${r.plan.n}×${r.plan.k}${r.plan.batch > 1 ? ` (${r.plan.batch})` : ''}`, r.plan.tile.join('×'),
                          `${r.plan.vec.A_VEC}/${r.plan.vec.B_VEC}`, r.plan.splits, ms(r.ours.median), ms(r.torch?.median), f(r.oursTflops),
                          f(r.ratioToCudnn), f(r.ofSgemmCeiling)])),
  ablations: (j) => `${j.timing}\n\n` + table(['layer', 'pass', 'production', 'variant', 'variant TFLOP/s', 'vs production'],
    j.rows.flatMap((r: J) => r.variants.map((v: J) => [r.layer, r.pass, `${r.plan.tile.join('×')}, ${r.plan.splits} splits: ${f(r.production.tflops)} TFLOP/s`,
                                                        v.what, f(v.tflops), f(v.vsProduction)]))) + `\n\nNot tried: ${j.skipped}.`,
  steps: (j) => `${j.timing}\n\n` + table(['step', 'patch', 'ours ms', 'PyTorch ms', 'PyTorch/ours', 'JS ms', 'dispatches', 'submits', 'ours MiB', 'PyTorch MiB'],
    j.rows.map((r: J) => [r.what, r.patch.join('×'), ms(r.ours.median), ms(r.torch?.median), f(r.ratio), ms(r.jsSeconds?.median),
                          f(r.perStep?.dispatches, 0), f(r.perStep?.submits, 0), mib(r.oursPeakBytes), mib(r.torchPeakBytes)])),
};

export function markdown(out: string): string {
  const parts = ['# voxgrad on a GPU: the diagnostic (bench/gpu.sh)', ''];
  for (const [i, phase] of PHASES.entries()) {
    const j = readPhase<J>(out, phase);
    parts.push(`## ${i + 1}. ${phase}`, '');
    if (!j) parts.push('Did not finish (no JSON).');
    else if (j.error) parts.push(`Failed: ${j.error}`);
    else {
      if (j.mode !== 'full') parts.push(`Mode: ${j.mode}.`, '');
      try { parts.push(sections[phase](j)); } catch (e) { parts.push(`(the table could not be made: ${(e as Error).message})`); }
    }
    parts.push('');
  }
  return parts.join('\n');
}
