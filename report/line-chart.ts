// A small line-chart renderer for report SVGs: one framed plot with ticks, axis labels, a legend to
// its right, linear or log y, optional moving-average smoothing, shaded bands (a spread over seeds)
// and one highlighted point. It
// returns a <g> fragment, so a page can stack several charts in one <svg>.

export interface ChartSeries {
  name: string;
  /** [x, y] pairs in increasing x; non-finite y (and y ≤ 0 on a log axis) leave a gap. */
  points: [number, number][];
  colour: string;
  /** Circles on every point (for sparse series such as validation scores). */
  markers?: boolean;
  /** SVG stroke-dasharray, telling apart series that share a colour. */
  dash?: string;
  /** [x, low, high] in increasing x: a shaded region behind the line. */
  band?: [number, number, number][];
}

export interface ChartOptions {
  /** The chart's outer box in the page, legend and labels included. */
  x: number; y: number; width: number; height: number;
  title?: string;
  xLabel: string;
  yLabel: string;
  xDomain: [number, number];
  /** x counts something (iterations): no fractional ticks. */
  integerX?: boolean;
  /** Fixed y range; default from the data, widened to round ticks. */
  yDomain?: [number, number];
  yScale?: 'linear' | 'log';
  /** Points in a centred moving average drawn over faint raw lines; below 2, raw lines only. */
  smoothWindow?: number;
  highlight?: { x: number; y: number; label: string; colour: string };
  series: ChartSeries[];
}

const LEFT = 62, RIGHT = 170, TOP = 26, BOTTOM = 42;
const AXIS = '#444', GRID = '#e4e4e4', FONT = 'font-family="sans-serif"';

export const escapeXml = (s: string) =>
  s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** A whole SVG document: white page, bold title at the top left, then the charts. */
export function svgPage(width: number, height: number, title: string, charts: string[]): string {
  return [
    `<?xml version="1.0" encoding="UTF-8"?>`,
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}">`,
    `<title>${escapeXml(title)}</title>`,
    `<rect width="${width}" height="${height}" fill="#ffffff"/>`,
    `<text x="20" y="28" ${FONT} font-size="18" font-weight="bold" fill="#111">${escapeXml(title)}</text>`,
    ...charts,
    `</svg>`,
  ].join('\n') + '\n';
}

const r1 = (v: number) => String(Math.round(v * 10) / 10);

/** Steps of 1, 2 or 5 × 10^k giving about `target` ticks over [lo, hi]. */
export function niceStep(lo: number, hi: number, target = 6): number {
  const raw = (hi - lo) / target;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const f = raw / mag;
  return (f < 1.5 ? 1 : f < 3.5 ? 2 : f < 7.5 ? 5 : 10) * mag;
}

function linearTicks(lo: number, hi: number, step: number): number[] {
  const out: number[] = [];
  // Multiplying from an integer start keeps 0.1-style steps from drifting (0.30000000000000004).
  for (let k = Math.ceil(lo / step - 1e-9); k * step <= hi + step * 1e-9; k++) out.push(Number((k * step).toPrecision(12)));
  return out;
}

function formatLinear(v: number, step: number, big: boolean): string {
  if (big) return `${Number((v / 1000).toPrecision(6))}k`;
  const decimals = Math.max(0, -Math.floor(Math.log10(step) + 1e-9));
  return v.toFixed(decimals);
}

/** Decade labels (SVG text content), all as plain numbers when they are short (0.001 … 10000), else all as 10 to a power. */
const decadeLabels = (a: number, b: number) => (a >= -3 && b <= 4
  ? (k: number) => String(Number((10 ** k).toPrecision(1)))
  : (k: number) => `10<tspan dy="-0.5em" font-size="8">${k < 0 ? '−' : ''}${Math.abs(k)}</tspan>`);

/** Pads a degenerate range so that a constant series still gets an axis. */
function spread(lo: number, hi: number): [number, number] {
  if (hi > lo) return [lo, hi];
  const pad = lo === 0 ? 1 : Math.abs(lo) / 2;
  return [lo - pad, hi + pad];
}

function yRange(o: ChartOptions): { lo: number; hi: number; ticks: number[]; label: (v: number) => string } {
  const log = o.yScale === 'log';
  let lo = Infinity, hi = -Infinity;
  for (const s of o.series)
    for (const y of [...s.points.map(([, v]) => v), ...(s.band ?? []).flatMap(([, a, b]) => [a, b])])
      if (Number.isFinite(y) && (!log || y > 0)) { lo = Math.min(lo, y); hi = Math.max(hi, y); }
  if (log) {
    let a = Math.floor(Math.log10(o.yDomain?.[0] ?? (lo === Infinity ? 0.1 : lo)));
    let b = Math.ceil(Math.log10(o.yDomain?.[1] ?? (hi === -Infinity ? 1 : hi)));
    if (a === b) { a--; b++; }
    const every = Math.ceil((b - a + 1) / 8);
    const ticks: number[] = [];
    for (let k = a; k <= b; k++) if ((k - a) % every === 0) ticks.push(k);
    return { lo: a, hi: b, ticks, label: decadeLabels(a, b) };
  }
  if (o.yDomain) {
    const step = niceStep(o.yDomain[0], o.yDomain[1], 5);
    return { lo: o.yDomain[0], hi: o.yDomain[1], ticks: linearTicks(o.yDomain[0], o.yDomain[1], step), label: (v) => formatLinear(v, step, false) };
  }
  [lo, hi] = lo === Infinity ? [0, 1] : spread(lo, hi);
  const step = niceStep(lo, hi, 5);
  lo = Math.floor(lo / step + 1e-9) * step;
  hi = Math.ceil(hi / step - 1e-9) * step;
  return { lo, hi, ticks: linearTicks(lo, hi, step), label: (v) => formatLinear(v, step, Math.max(Math.abs(lo), Math.abs(hi)) >= 1e4) };
}

/** Centred moving average over `window` points of the finite values, in the space the chart draws in. */
function movingAverage(ys: number[], window: number): number[] {
  const half = Math.floor(window / 2);
  return ys.map((y, i) => {
    if (!Number.isFinite(y)) return NaN;
    let sum = 0, n = 0;
    for (let j = Math.max(0, i - half); j <= Math.min(ys.length - 1, i + half); j++) if (Number.isFinite(ys[j])) { sum += ys[j]; n++; }
    return sum / n;
  });
}

/**
 * Path data through screen points, broken at NaN. Where several points fall in one pixel column it
 * keeps their first, lowest, highest and last, which draws the same picture from far fewer points.
 * Points left alone between gaps come back in `isolated`, since a one-point path draws nothing.
 */
function pathData(pts: [number, number][]): { d: string; isolated: [number, number][] } {
  const parts: string[] = [];
  const isolated: [number, number][] = [];
  let run: [number, number][] = [];
  const flush = () => {
    if (run.length === 1) isolated.push(run[0]);
    else if (run.length > 1) {
      const kept: [number, number][] = [];
      for (let i = 0; i < run.length;) {
        let j = i, lo = i, hi = i;
        const col = Math.round(run[i][0]);
        while (j + 1 < run.length && Math.round(run[j + 1][0]) === col) {
          j++;
          if (run[j][1] < run[lo][1]) lo = j;
          if (run[j][1] > run[hi][1]) hi = j;
        }
        for (const k of [...new Set([i, lo, hi, j])].sort((a, b) => a - b)) kept.push(run[k]);
        i = j + 1;
      }
      parts.push(kept.map(([x, y], k) => `${k ? 'L' : 'M'}${r1(x)} ${r1(y)}`).join(''));
    }
    run = [];
  };
  for (const p of pts) {
    if (Number.isFinite(p[1])) run.push(p);
    else flush();
  }
  flush();
  return { d: parts.join(''), isolated };
}

export function lineChart(o: ChartOptions): string {
  const px0 = o.x + LEFT, py0 = o.y + TOP, pw = o.width - LEFT - RIGHT, ph = o.height - TOP - BOTTOM;
  const log = o.yScale === 'log';
  const [x0, x1] = spread(o.xDomain[0], o.xDomain[1]);
  const y = yRange(o);
  const ty = (v: number) => (log ? (v > 0 ? Math.log10(v) : NaN) : v);
  const sx = (v: number) => px0 + ((v - x0) / (x1 - x0)) * pw;
  const sy = (t: number) => py0 + ph - ((t - y.lo) / (y.hi - y.lo)) * ph;
  const out: string[] = [`<g class="chart">`];

  if (o.title) out.push(`<text x="${px0}" y="${o.y + 16}" ${FONT} font-size="14" font-weight="bold" fill="#222">${escapeXml(o.title)}</text>`);
  // Grid and ticks.
  const xStep = Math.max(o.integerX ? 1 : 0, niceStep(x0, x1, Math.max(2, Math.round(pw / 90))));
  const xBig = Math.max(Math.abs(x0), Math.abs(x1)) >= 1e4;
  for (const t of linearTicks(x0, x1, xStep)) {
    const X = r1(sx(t));
    out.push(`<line x1="${X}" y1="${py0}" x2="${X}" y2="${py0 + ph}" stroke="${GRID}"/>`,
      `<line x1="${X}" y1="${py0 + ph}" x2="${X}" y2="${py0 + ph + 4}" stroke="${AXIS}"/>`,
      `<text x="${X}" y="${py0 + ph + 16}" ${FONT} font-size="11" fill="#333" text-anchor="middle">${formatLinear(t, xStep, xBig)}</text>`);
  }
  for (const t of y.ticks) {
    const Y = r1(sy(t));
    out.push(`<line x1="${px0}" y1="${Y}" x2="${px0 + pw}" y2="${Y}" stroke="${GRID}"/>`,
      `<line x1="${px0 - 4}" y1="${Y}" x2="${px0}" y2="${Y}" stroke="${AXIS}"/>`,
      `<text x="${px0 - 7}" y="${Y}" dy="0.35em" ${FONT} font-size="11" fill="#333" text-anchor="end">${y.label(t)}</text>`);
  }
  out.push(`<rect x="${px0}" y="${py0}" width="${pw}" height="${ph}" fill="none" stroke="${AXIS}"/>`,
    `<text x="${px0 + pw / 2}" y="${py0 + ph + 34}" ${FONT} font-size="12" fill="#222" text-anchor="middle">${escapeXml(o.xLabel)}</text>`,
    `<text transform="translate(${o.x + 14} ${py0 + ph / 2}) rotate(-90)" ${FONT} font-size="12" fill="#222" text-anchor="middle">${escapeXml(o.yLabel)}</text>`);

  const drawn = o.series.filter((s) => s.points.some(([, v]) => Number.isFinite(ty(v))));
  if (drawn.length === 0)
    out.push(`<text x="${px0 + pw / 2}" y="${py0 + ph / 2}" ${FONT} font-size="13" fill="#888" text-anchor="middle">no data</text>`);

  // Lines stay inside the frame even where a fixed y range cuts them off.
  const clip = `clip-${Math.round(o.x)}-${Math.round(o.y)}`;
  out.push(`<clipPath id="${clip}"><rect x="${px0}" y="${py0}" width="${pw}" height="${ph}"/></clipPath>`, `<g clip-path="url(#${clip})">`);
  for (const s of drawn) {
    if (s.band?.length) {
      const edge = (k: 1 | 2) => s.band!.map((b) => `${r1(sx(b[0]))} ${r1(sy(ty(b[k])))}`);
      out.push(`<polygon class="band" points="${[...edge(2), ...edge(1).reverse()].join(' ')}" fill="${s.colour}" fill-opacity="0.15" stroke="none"/>`);
    }
    const ts = s.points.map(([, v]) => ty(v));
    const smooth = (o.smoothWindow ?? 0) >= 2;
    const screen = (vals: number[]) => s.points.map(([xv], i): [number, number] => [sx(xv), Number.isFinite(vals[i]) ? sy(vals[i]) : NaN]);
    const name = escapeXml(s.name);
    if (smooth) {
      const raw = pathData(screen(ts));
      out.push(`<path class="raw" d="${raw.d}" fill="none" stroke="${s.colour}" stroke-opacity="0.25" stroke-width="1"/>`);
    }
    const line = pathData(screen(smooth ? movingAverage(ts, o.smoothWindow!) : ts));
    const dash = s.dash ? ` stroke-dasharray="${s.dash}"` : '';
    out.push(`<path class="series" data-series="${name}" d="${line.d}" fill="none" stroke="${s.colour}" stroke-width="1.8" stroke-linejoin="round"${dash}/>`);
    const dots = s.markers ? screen(ts).filter(([, v]) => Number.isFinite(v)) : line.isolated;
    for (const [X, Y] of dots) out.push(`<circle cx="${r1(X)}" cy="${r1(Y)}" r="2.6" fill="${s.colour}"/>`);
  }
  out.push(`</g>`);
  if (o.highlight && Number.isFinite(ty(o.highlight.y))) {
    const X = sx(o.highlight.x), Y = sy(ty(o.highlight.y));
    const right = X > px0 + pw * 0.7, below = Y - 10 < py0 + 12;
    out.push(`<circle class="highlight" cx="${r1(X)}" cy="${r1(Y)}" r="6" fill="none" stroke="${o.highlight.colour}" stroke-width="2"/>`,
      `<text x="${r1(X + (right ? -10 : 10))}" y="${r1(below ? Y + 20 : Y - 10)}" ${FONT} font-size="11" font-weight="bold" fill="${o.highlight.colour}" text-anchor="${right ? 'end' : 'start'}">${escapeXml(o.highlight.label)}</text>`);
  }

  // Legend, to the right of the plot.
  o.series.forEach((s, i) => {
    const ly = py0 + 8 + i * 18, lx = px0 + pw + 16;
    out.push(`<line x1="${lx}" y1="${ly}" x2="${lx + 22}" y2="${ly}" stroke="${s.colour}" stroke-width="2.5"${s.dash ? ` stroke-dasharray="${s.dash}"` : ''}/>`,
      `<text class="legend" x="${lx + 28}" y="${ly}" dy="0.35em" ${FONT} font-size="12" fill="#222">${escapeXml(s.name)}</text>`);
  });
  out.push(`</g>`);
  return out.join('\n');
}
