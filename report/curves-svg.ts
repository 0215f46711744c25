// The training-curves picture: every loss term against iteration above, validation Dice below, in
// one standalone SVG (generic sans-serif, no fonts, scripts or links to fetch).
import type { IterationRecord, ValidationRecord } from '../train/loop/records.ts';
import { lineChart, svgPage, type ChartSeries } from './line-chart.ts';

export interface TrainingLog {
  iterations: IterationRecord[];
  validation: ValidationRecord[];
}

// Okabe–Ito hues after a near-black total; they stay distinct for the common colour-vision deficiencies.
const PALETTE = ['#222222', '#0072B2', '#D55E00', '#009E73', '#CC79A7', '#E69F00', '#56B4E9', '#999999'];
const WIDTH = 900, HEIGHT = 680;
/** Above this many iterations the raw loss is too noisy to read and a moving average goes over it. */
const SMOOTH_FROM = 100;

export function trainingCurvesSvg(log: TrainingLog, opts: { title?: string } = {}): string {
  const its = [...log.iterations].sort((a, b) => a.iteration - b.iteration);
  const vals = [...log.validation].sort((a, b) => a.iteration - b.iteration);

  const names: string[] = [];
  for (const r of its) for (const k of Object.keys(r.terms ?? {})) if (k !== 'loss' && !names.includes(k)) names.push(k);
  const series: ChartSeries[] = [
    { name: 'loss', points: its.map((r) => [r.iteration, r.loss]), colour: PALETTE[0] },
    ...names.map((k, i): ChartSeries => ({
      name: k, points: its.map((r) => [r.iteration, r.terms?.[k] ?? NaN]), colour: PALETTE[1 + (i % (PALETTE.length - 1))],
    })),
  ];

  // Log scale once the positive values span more than two decades; zeros and negatives then leave gaps.
  let lo = Infinity, hi = -Infinity;
  for (const s of series) for (const [, v] of s.points) if (v > 0 && Number.isFinite(v)) { lo = Math.min(lo, v); hi = Math.max(hi, v); }
  const yScale = hi / lo > 100 ? 'log' : 'linear';

  let x0 = Infinity, x1 = -Infinity;
  for (const r of [...its, ...vals]) if (Number.isFinite(r.iteration)) { x0 = Math.min(x0, r.iteration); x1 = Math.max(x1, r.iteration); }
  const xDomain: [number, number] = x0 === Infinity ? [0, 1] : [Math.min(0, x0), x1];

  let best: ValidationRecord | undefined;
  for (const v of vals) if (Number.isFinite(v.dice) && (!best || v.dice > best.dice)) best = v;

  const title = opts.title ?? 'Training';
  return svgPage(WIDTH, HEIGHT, title, [
    lineChart({
      x: 10, y: 40, width: WIDTH - 20, height: 370, title: 'Loss terms', xLabel: 'iteration', integerX: true,
      yLabel: yScale === 'log' ? 'loss (log scale)' : 'loss', xDomain, yScale, series,
      smoothWindow: its.length > SMOOTH_FROM ? Math.max(3, Math.round(its.length * 0.02)) : 0,
    }),
    lineChart({
      x: 10, y: 420, width: WIDTH - 20, height: 250, title: 'Validation', xLabel: 'iteration', integerX: true, yLabel: 'Dice',
      xDomain, yDomain: [0, 1],
      series: [{ name: 'Dice', points: vals.map((v) => [v.iteration, v.dice]), colour: PALETTE[1], markers: vals.length <= 60 }],
      highlight: best && { x: best.iteration, y: best.dice, colour: PALETTE[2], label: `best ${best.dice.toFixed(4)} at ${best.iteration}` },
    }),
  ]);
}
