// The benchmark's Markdown tables and its SVG plot of the per-layer ratios.
import type { ConvRow, Pass } from './conv-bench.ts';
import { PASSES } from './conv-bench.ts';
import type { Stat } from './stats.ts';

export interface TimedRow { item: string; ours: Stat; torch?: Stat; gflop?: number; oursPeakBytes?: number; torchPeakBytes?: number }

const ms = (s: number) => (s < 0.01 ? (s * 1000).toFixed(2) : s < 1 ? (s * 1000).toFixed(1) : (s * 1000).toFixed(0));
/** A time as "median (min–max)" in ms or s. */
export function span(x: Stat | undefined): string {
  if (!x) return '–';
  if (x.median >= 10) return `${x.median.toFixed(1)} s (${x.min.toFixed(1)}–${x.max.toFixed(1)})`;
  return `${ms(x.median)} ms (${ms(x.min)}–${ms(x.max)})`;
}
const ratioText = (ours: Stat, torch: Stat | undefined) => (torch ? `${(torch.median / ours.median).toFixed(2)}×` : '–');
export const mib = (b: number | undefined) => (b === undefined ? '–' : b >= 2 ** 30 ? `${(b / 2 ** 30).toFixed(2)} GiB` : `${(b / 2 ** 20).toFixed(0)} MiB`);

export const geomean = (v: number[]) => Math.exp(v.reduce((a, x) => a + Math.log(x), 0) / v.length);

export function convTable(rows: ConvRow[]): string {
  const tfjs = rows.some((r) => r.tfjsCpu || r.tfjsWasm);
  const head = ['layer', 'pass', 'voxgrad', 'GFLOP/s', 'PyTorch', 'ratio', ...(tfjs ? ['tfjs-cpu', 'tfjs-wasm'] : [])];
  const lines = [`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`];
  for (const r of rows) {
    for (const p of PASSES) {
      const cells = [p === 'fwd' ? r.layer : '', p, span(r.ours[p]), (r.flop / r.ours[p].median / 1e9).toFixed(1),
                     span(r.torch?.[p]), ratioText(r.ours[p], r.torch?.[p])];
      if (tfjs) cells.push(span(r.tfjsCpu?.[p]), span(r.tfjsWasm?.[p]));
      lines.push(`| ${cells.join(' | ')} |`);
    }
  }
  const summary = convSummary(rows);
  if (summary) {
    lines.push('', `Geometric mean of the per-layer ratios (PyTorch time / voxgrad time): ${PASSES.map((p) => `${p} ${summary[p].toFixed(2)}×`).join(', ')}.`);
  }
  const faster = (key: 'tfjsCpu' | 'tfjsWasm') => {
    const v = rows.flatMap((r) => PASSES.flatMap((p) => (r[key] ? [r[key]![p].median / r.ours[p].median] : [])));
    return v.length ? `${geomean(v).toFixed(1)}×` : null;
  };
  const cpu = faster('tfjsCpu'), wasm = faster('tfjsWasm');
  if (cpu || wasm) lines.push(`tfjs time / voxgrad time, geometric mean over the layers timed on both: ${[cpu && `tfjs-backend-cpu ${cpu}`, wasm && `tfjs-backend-wasm ${wasm}`].filter(Boolean).join(', ')}.`);
  return lines.join('\n');
}

export function convSummary(rows: ConvRow[]): Record<Pass, number> | null {
  if (!rows.every((r) => r.torch)) return null;
  return Object.fromEntries(PASSES.map((p) => [p, geomean(rows.map((r) => r.torch![p].median / r.ours[p].median))])) as Record<Pass, number>;
}

export function timedTable(rows: TimedRow[]): string {
  const head = ['', 'voxgrad', 'PyTorch', 'ratio', 'GFLOP/s (voxgrad)', 'peak memory voxgrad', 'peak memory PyTorch'];
  const lines = [`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`];
  for (const r of rows) {
    lines.push(`| ${[r.item, span(r.ours), span(r.torch), ratioText(r.ours, r.torch), r.gflop ? (r.gflop / r.ours.median).toFixed(1) : '–',
                     mib(r.oursPeakBytes), mib(r.torchPeakBytes)].join(' | ')} |`);
  }
  return lines.join('\n');
}

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;');

/** Horizontal bars of PyTorch time / voxgrad time per layer and pass, on a log scale around 1. */
export function convRatioSvg(rows: ConvRow[], title: string): string {
  const rated = rows.filter((r) => r.torch);
  const ratios = rated.flatMap((r) => PASSES.map((p) => r.torch![p].median / r.ours[p].median));
  const lo = Math.min(0.25, ...ratios), hi = Math.max(4, ...ratios);
  const left = 230, width = 420, bar = 7, gap = 6, top = 40;
  const rowHeight = PASSES.length * bar + gap;
  const height = top + rated.length * rowHeight + 40;
  const x = (v: number) => left + (width * (Math.log(v) - Math.log(lo))) / (Math.log(hi) - Math.log(lo));
  const colour: Record<Pass, string> = { fwd: '#3b6ea8', dx: '#d08c2f', dw: '#5a9e5a' };
  const out = [`<svg xmlns="http://www.w3.org/2000/svg" width="${left + width + 40}" height="${height}" font-family="sans-serif" font-size="11">`,
               `<rect width="100%" height="100%" fill="white"/>`,
               `<text x="10" y="16" font-size="13">${esc(title)}</text>`,
               `<text x="10" y="31" fill="#555">PyTorch time / voxgrad time (log scale; right of 1: voxgrad faster)</text>`];
  rated.forEach((r, i) => {
    const y0 = top + i * rowHeight;
    out.push(`<text x="${left - 6}" y="${y0 + bar * 2}" text-anchor="end">${esc(r.layer)}</text>`);
    PASSES.forEach((p, k) => {
      const v = r.torch![p].median / r.ours[p].median, a = x(Math.min(v, 1)), b = x(Math.max(v, 1));
      out.push(`<rect x="${a.toFixed(1)}" y="${y0 + k * bar}" width="${Math.max(b - a, 1).toFixed(1)}" height="${bar - 1}" fill="${colour[p]}"><title>${p} ${v.toFixed(2)}×</title></rect>`);
    });
  });
  const axisY = top + rated.length * rowHeight + 4;
  for (const t of [0.0625, 0.125, 0.25, 0.5, 1, 2, 4, 8, 16, 32, 64].filter((t) => t >= lo && t <= hi)) {
    out.push(`<line x1="${x(t)}" y1="${top - 4}" x2="${x(t)}" y2="${axisY}" stroke="${t === 1 ? '#000' : '#ccc'}"/>`,
             `<text x="${x(t)}" y="${axisY + 13}" text-anchor="middle">${t}×</text>`);
  }
  PASSES.forEach((p, k) => out.push(`<rect x="${left + k * 110}" y="${axisY + 20}" width="10" height="10" fill="${colour[p]}"/>`,
                                    `<text x="${left + k * 110 + 14}" y="${axisY + 29}">${{ fwd: 'forward', dx: 'input gradient', dw: 'weight gradient' }[p]}</text>`));
  out.push('</svg>');
  return out.join('\n');
}
