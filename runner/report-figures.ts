// The report's pictures. Per dataset: each config's validation Dice over training and the fraction of
// voxels the uncertainty mask kept (methods that have one), the line the mean over seeds and the band
// their range. Per label-rate study: Dice against the number of labelled cases, one line per method.
import { lineChart, svgPage, type ChartSeries } from '../report/line-chart.ts';
import { shortName } from './report-format.ts';
import type { RunResults } from './run.ts';
import { mean } from './stats.ts';

const COLOURS = ['#222222', '#D55E00', '#0072B2', '#009E73', '#CC79A7', '#E69F00', '#56B4E9', '#999999'];
const DASHES = [undefined, '6 3', '2 2'];
const WIDTH = 900, LEGEND_ROW = 18;

export interface MaskTrace { name: string; group: string; points: [number, number][] }

/** Mean and range over the runs at each x all of them have. */
function seedSpread(traces: [number, number][][]): { points: [number, number][]; band?: [number, number, number][] } {
  const xs = traces[0].map(([x]) => x).filter((x) => traces.every((t) => t.some(([tx]) => tx === x)));
  const at = (x: number) => traces.map((t) => t.find(([tx]) => tx === x)![1]);
  return {
    points: xs.map((x) => [x, mean(at(x))]),
    band: traces.length > 1 ? xs.map((x) => [x, Math.min(...at(x)), Math.max(...at(x))]) : undefined,
  };
}

const style = (i: number) => ({ colour: COLOURS[i % COLOURS.length], dash: DASHES[Math.floor(i / COLOURS.length) % DASHES.length] });

/** A validation curve to draw: a run, or a cross-check's run named by its group. */
export type CurveRun = Pick<RunResults, 'group' | 'iterations' | 'curve'>;

export function datasetFigureSvg(title: string, runs: CurveRun[], masks: MaskTrace[]): string {
  const groups = [...new Set(runs.map((r) => r.group))];
  const xMax = Math.max(1, ...runs.map((r) => r.iterations));
  const named = (g: string, n: number) => `${shortName(g, groups)}${n > 1 ? ` (${n} seeds)` : ''}`;
  const series: ChartSeries[] = groups.map((g, i) => {
    const G = runs.filter((r) => r.group === g);
    return { name: named(g, G.length), ...style(i), markers: G[0].curve.length <= 40,
             ...seedSpread(G.map((r) => r.curve.map((c): [number, number] => [c.iteration, c.dice]))) };
  });
  const maskGroups = groups.filter((g) => masks.some((m) => m.group === g));
  const diceHeight = Math.max(370, 60 + LEGEND_ROW * groups.length), maskHeight = Math.max(290, 60 + LEGEND_ROW * maskGroups.length);
  const charts = [
    lineChart({ x: 10, y: 40, width: WIDTH - 20, height: diceHeight, title: 'Validation Dice of the student (sliding window; band: range over seeds)',
                xLabel: 'iteration', yLabel: 'Dice', integerX: true, xDomain: [0, xMax], series }),
  ];
  if (maskGroups.length) {
    charts.push(lineChart({
      x: 10, y: 50 + diceHeight, width: WIDTH - 20, height: maskHeight, title: 'Fraction of voxels the uncertainty mask keeps (moving average, mean over seeds)',
      xLabel: 'iteration', yLabel: 'kept', integerX: true, xDomain: [0, xMax], yDomain: [0, 1],
      smoothWindow: Math.max(3, Math.round(xMax / 50)),
      series: maskGroups.map((g) => {
        const M = masks.filter((m) => m.group === g);
        return { name: named(g, M.length), ...style(groups.indexOf(g)), points: seedSpread(M.map((m) => m.points)).points };
      }),
    }));
  }
  return svgPage(WIDTH, 60 + diceHeight + (maskGroups.length ? maskHeight + 10 : 0), title, charts);
}

export interface RateLine { name: string; points: { labelled: number; dice: number[] }[] }

export function labelRateFigureSvg(title: string, lines: RateLine[]): string {
  const xs = lines.flatMap((l) => l.points.map((p) => p.labelled));
  const series: ChartSeries[] = lines.map((l, i) => ({
    name: l.name, ...style(i), markers: true,
    points: l.points.map((p): [number, number] => [p.labelled, mean(p.dice)]),
    band: l.points.some((p) => p.dice.length > 1) ? l.points.map((p): [number, number, number] => [p.labelled, Math.min(...p.dice), Math.max(...p.dice)]) : undefined,
  }));
  return svgPage(WIDTH, 460, `${title}: Dice against labelled cases`, [
    lineChart({ x: 10, y: 40, width: WIDTH - 20, height: 410, title: 'Validation Dice, mean over seeds (band: range over seeds)',
                xLabel: 'labelled training cases', yLabel: 'Dice', integerX: true, xDomain: [0, Math.max(...xs)], series }),
  ]);
}
