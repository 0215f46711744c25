// The report's pictures, one SVG per dataset: every run's validation Dice over training, and the
// fraction of voxels the uncertainty mask kept (methods that have one), from the runs' logs.
import { lineChart, svgPage, type ChartSeries } from '../report/line-chart.ts';
import type { RunResults } from './run.ts';

const GROUP_COLOURS = ['#222222', '#D55E00', '#0072B2', '#009E73', '#CC79A7', '#E69F00', '#56B4E9', '#999999'];
const WIDTH = 900;

export interface MaskTrace { name: string; group: string; points: [number, number][] }

export function datasetFigureSvg(title: string, runs: RunResults[], masks: MaskTrace[]): string {
  const groups = [...new Set(runs.map((r) => r.group))];
  const colour = (g: string) => GROUP_COLOURS[groups.indexOf(g) % GROUP_COLOURS.length];
  const xMax = Math.max(1, ...runs.map((r) => r.iterations));
  const series: ChartSeries[] = runs.map((r) => ({
    name: `${r.group.replace(/^[^-]+-/, '')} s${r.seed}`, colour: colour(r.group), markers: r.curve.length <= 40,
    points: r.curve.map((c): [number, number] => [c.iteration, c.dice]),
  }));
  const height = masks.length ? 720 : 420;
  const charts = [
    lineChart({ x: 10, y: 40, width: WIDTH - 20, height: 370, title: 'Validation Dice of the student (sliding window, every run)',
                xLabel: 'iteration', yLabel: 'Dice', integerX: true, xDomain: [0, xMax], series }),
  ];
  if (masks.length) {
    charts.push(lineChart({
      x: 10, y: 420, width: WIDTH - 20, height: 290, title: 'Fraction of voxels the uncertainty mask keeps (moving average)',
      xLabel: 'iteration', yLabel: 'kept', integerX: true, xDomain: [0, xMax], yDomain: [0, 1],
      smoothWindow: Math.max(3, Math.round(xMax / 50)),
      series: masks.map((m) => ({ name: `${m.group.replace(/^[^-]+-/, '')} ${m.name.replace(/.*-/, '')}`, colour: colour(m.group), points: m.points })),
    }));
  }
  return svgPage(WIDTH, height, title, charts);
}
