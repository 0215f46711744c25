// A slice of a volume as a clinician would look at it: the grey image windowed to its 1st–99th
// percentile, the prediction as a translucent orange fill, the reference as a sky-blue contour, and
// optionally the model's uncertainty as a heat map in a panel of its own, with captions and a legend
// strip (colour swatches and their names) underneath.
//
// Arrays are row-major [D, H, W] (index = (d·H + h)·W + w). A slice along axis 0 is drawn with h
// running down and w across, along axis 1 with d down and w across, along axis 2 with d down and h
// across: array order, not radiological orientation, which would need the affine.
import { encodePng } from './png.ts';
import { CELL_H, drawText, textWidth } from './pixel-font.ts';

type Axis = 0 | 1 | 2;
type RGB = readonly [number, number, number];

export interface SliceOverlayOptions {
  image: Float32Array;
  shape: [number, number, number];
  /** A mask, label map or probability map: values ≥ 0.5 are foreground. */
  prediction?: ArrayLike<number>;
  /** As `prediction`. */
  reference?: ArrayLike<number>;
  /** Drawn in a panel beside the overlay, black at 0 to pale yellow at the volume's maximum. */
  uncertainty?: Float32Array;
  /** 'all': one panel per axis through the foreground centroid. Default 0. */
  axis?: Axis | 'all';
  /** Slice along `axis` (not used with 'all'); default the one with the most reference foreground, else prediction, else the middle. */
  index?: number;
  /** Screen pixels per voxel (nearest neighbour); default the least that makes every panel's short side ≥ 256. */
  scale?: number;
}

// Orange fill and sky-blue contour (Okabe–Ito hues) stay apart for the common colour-vision deficiencies.
const PREDICTION: RGB = [230, 159, 0];
const PREDICTION_ALPHA = 0.45;
const REFERENCE: RGB = [0, 190, 255];
// Background and text are not pure greys, so that nothing but image pixels has r = g = b.
const BACKGROUND: RGB = [22, 24, 30];
const TEXT: RGB = [232, 232, 220];
const HEAT: RGB[] = [[0, 0, 0], [72, 20, 120], [200, 60, 60], [250, 180, 40], [255, 250, 210]];
const MARGIN = 8, GAP = 8;

const isForeground = (v: number) => v >= 0.5;

function sliceDims(shape: readonly number[], axis: Axis): [rows: number, cols: number] {
  const [D, H, W] = shape;
  return axis === 0 ? [H, W] : axis === 1 ? [D, W] : [D, H];
}

function voxelAt(shape: readonly number[], axis: Axis, index: number, r: number, c: number): number {
  const [, H, W] = shape;
  return axis === 0 ? (index * H + r) * W + c : axis === 1 ? (r * H + index) * W + c : (r * H + c) * W + index;
}

/** 1st and 99th percentiles of the finite values, interpolated linearly between order statistics as numpy does. */
function percentileWindow(image: Float32Array): [number, number] {
  const finite = image.filter(Number.isFinite).sort();
  if (finite.length === 0) return [0, 0];
  const at = (p: number) => {
    const pos = p * (finite.length - 1), i = Math.floor(pos), f = pos - i;
    return i + 1 < finite.length ? finite[i] + f * (finite[i + 1] - finite[i]) : finite[i];
  };
  return [at(0.01), at(0.99)];
}

function defaultIndex(shape: readonly number[], axis: Axis, masks: (ArrayLike<number> | undefined)[]): number {
  const n = shape[axis];
  const [rows, cols] = sliceDims(shape, axis);
  for (const mask of masks) {
    if (!mask) continue;
    let best = -1, bestCount = 0;
    for (let i = 0; i < n; i++) {
      let count = 0;
      for (let r = 0; r < rows; r++)
        for (let c = 0; c < cols; c++) if (isForeground(mask[voxelAt(shape, axis, i, r, c)])) count++;
      if (count > bestCount) { best = i; bestCount = count; }
    }
    if (best >= 0) return best;
  }
  return Math.floor(n / 2);
}

function centroid(shape: readonly number[], masks: (ArrayLike<number> | undefined)[]): [number, number, number] {
  const [D, H, W] = shape;
  for (const mask of masks) {
    if (!mask) continue;
    let n = 0, sd = 0, sh = 0, sw = 0;
    for (let d = 0, i = 0; d < D; d++)
      for (let h = 0; h < H; h++)
        for (let w = 0; w < W; w++, i++)
          if (isForeground(mask[i])) { n++; sd += d; sh += h; sw += w; }
    if (n > 0) return [Math.round(sd / n), Math.round(sh / n), Math.round(sw / n)];
  }
  return [Math.floor(D / 2), Math.floor(H / 2), Math.floor(W / 2)];
}

function heat(t: number): RGB {
  const x = Math.min(Math.max(t, 0), 1) * (HEAT.length - 1);
  const i = Math.min(Math.floor(x), HEAT.length - 2), f = x - i;
  const a = HEAT[i], b = HEAT[i + 1];
  return [a[0] + f * (b[0] - a[0]), a[1] + f * (b[1] - a[1]), a[2] + f * (b[2] - a[2])];
}

const short = (v: number) => String(Number(v.toPrecision(3)));

class Canvas {
  readonly rgba: Uint8Array;
  constructor(readonly width: number, readonly height: number, fill: RGB) {
    this.rgba = new Uint8Array(width * height * 4);
    for (let o = 0; o < this.rgba.length; o += 4) {
      this.rgba[o] = fill[0]; this.rgba[o + 1] = fill[1]; this.rgba[o + 2] = fill[2]; this.rgba[o + 3] = 255;
    }
  }
  rect(x: number, y: number, w: number, h: number, colour: RGB, alpha = 1) {
    for (let Y = Math.max(y, 0); Y < Math.min(y + h, this.height); Y++)
      for (let X = Math.max(x, 0); X < Math.min(x + w, this.width); X++) {
        const o = (Y * this.width + X) * 4;
        for (let k = 0; k < 3; k++) this.rgba[o + k] = Math.round(this.rgba[o + k] * (1 - alpha) + colour[k] * alpha);
      }
  }
  text(x: number, y: number, text: string, px: number) { drawText(this.rgba, this.width, this.height, x, y, text, px, TEXT); }
}

interface Panel { kind: 'overlay' | 'uncertainty'; axis: Axis; index: number; rows: number; cols: number; gridRow: number; gridCol: number }

/** Draws one slice panel with its top-left at (x0, y0). */
function drawPanel(cv: Canvas, x0: number, y0: number, p: Panel, s: number, o: SliceOverlayOptions,
  grey: (v: number) => number, uncertaintyMax: number) {
  const { shape } = o;
  const at = (r: number, c: number) => voxelAt(shape, p.axis, p.index, r, c);
  for (let r = 0; r < p.rows; r++)
    for (let c = 0; c < p.cols; c++) {
      const i = at(r, c);
      if (p.kind === 'overlay') {
        const g = grey(o.image[i]);
        cv.rect(x0 + c * s, y0 + r * s, s, s, [g, g, g]);
        if (o.prediction && isForeground(o.prediction[i])) cv.rect(x0 + c * s, y0 + r * s, s, s, PREDICTION, PREDICTION_ALPHA);
      } else {
        const u = o.uncertainty![i];
        cv.rect(x0 + c * s, y0 + r * s, s, s, heat(uncertaintyMax > 0 && Number.isFinite(u) ? u / uncertaintyMax : 0));
      }
    }
  const ref = o.reference;
  if (!ref) return;
  // The contour lies inside the reference voxels, along every side and corner they share with
  // background or the slice edge, so it never hides a voxel outside the reference.
  const t = Math.max(1, Math.round(s / 4));
  const inRef = (r: number, c: number) => r >= 0 && c >= 0 && r < p.rows && c < p.cols && isForeground(ref[at(r, c)]);
  for (let r = 0; r < p.rows; r++)
    for (let c = 0; c < p.cols; c++) {
      if (!inRef(r, c)) continue;
      const x = x0 + c * s, y = y0 + r * s;
      for (let dr = -1; dr <= 1; dr++)
        for (let dc = -1; dc <= 1; dc++) {
          if ((dr === 0 && dc === 0) || inRef(r + dr, c + dc)) continue;
          const bx = dc > 0 ? x + s - t : x, bw = dc === 0 ? s : t;
          const by = dr > 0 ? y + s - t : y, bh = dr === 0 ? s : t;
          cv.rect(bx, by, bw, bh, REFERENCE);
        }
    }
}

function checkLength(name: string, a: ArrayLike<number> | undefined, n: number) {
  if (a && a.length !== n) throw new Error(`voxgrad: sliceOverlayPng: ${name} has ${a.length} values, the image ${n}`);
}

/** The overlay as PNG file bytes. */
export function sliceOverlayPng(o: SliceOverlayOptions): Uint8Array {
  const { image, shape } = o;
  if (shape.length !== 3 || !shape.every((n) => Number.isInteger(n) && n > 0))
    throw new Error(`voxgrad: sliceOverlayPng: shape must be three positive integers, got [${shape.join(', ')}]`);
  const n = shape[0] * shape[1] * shape[2];
  checkLength('image', image, n);
  checkLength('prediction', o.prediction, n);
  checkLength('reference', o.reference, n);
  checkLength('uncertainty', o.uncertainty, n);
  const axisOpt = o.axis ?? 0;
  if (axisOpt !== 'all' && axisOpt !== 0 && axisOpt !== 1 && axisOpt !== 2)
    throw new Error(`voxgrad: sliceOverlayPng: axis must be 0, 1, 2 or 'all', got ${String(axisOpt)}`);
  const masks = [o.reference, o.prediction];

  const cuts: { axis: Axis; index: number }[] = [];
  if (axisOpt === 'all') {
    const c = centroid(shape, masks);
    for (const axis of [0, 1, 2] as const) cuts.push({ axis, index: c[axis] });
  } else {
    const index = o.index ?? defaultIndex(shape, axisOpt, masks);
    if (!Number.isInteger(index) || index < 0 || index >= shape[axisOpt])
      throw new Error(`voxgrad: sliceOverlayPng: index ${index} is outside axis ${axisOpt} (0..${shape[axisOpt] - 1})`);
    cuts.push({ axis: axisOpt, index });
  }
  // One axis: overlay and uncertainty side by side; all three: one row per layer, one column per axis.
  const kinds = o.uncertainty ? ['overlay', 'uncertainty'] as const : ['overlay'] as const;
  const panels: Panel[] = [];
  kinds.forEach((kind, k) => cuts.forEach(({ axis, index }, j) => {
    const [rows, cols] = sliceDims(shape, axis);
    panels.push({ kind, axis, index, rows, cols, gridRow: axisOpt === 'all' ? k : 0, gridCol: axisOpt === 'all' ? j : k });
  }));

  const shortest = Math.min(...panels.map((p) => Math.min(p.rows, p.cols)));
  const s = o.scale ?? Math.ceil(256 / shortest);
  if (!Number.isInteger(s) || s < 1) throw new Error(`voxgrad: sliceOverlayPng: scale must be a positive integer, got ${s}`);
  const px = shortest * s >= 200 ? 2 : 1;
  const captionH = CELL_H * px + 4;

  const nCols = Math.max(...panels.map((p) => p.gridCol)) + 1, nRows = Math.max(...panels.map((p) => p.gridRow)) + 1;
  const colW = Array.from({ length: nCols }, (_, j) => Math.max(...panels.filter((p) => p.gridCol === j).map((p) => p.cols * s)));
  const rowH = Array.from({ length: nRows }, (_, i) => captionH + Math.max(...panels.filter((p) => p.gridRow === i).map((p) => p.rows * s)));
  const colX = colW.map((_, j) => MARGIN + colW.slice(0, j).reduce((a, b) => a + b + GAP, 0));
  const rowY = rowH.map((_, i) => MARGIN + rowH.slice(0, i).reduce((a, b) => a + b + GAP, 0));
  const panelsW = colX[nCols - 1] + colW[nCols - 1] + MARGIN;
  const panelsH = rowY[nRows - 1] + rowH[nRows - 1];

  const [lo, hi] = percentileWindow(image);
  const grey = (v: number) => (hi > lo && Number.isFinite(v) ? Math.round(255 * Math.min(Math.max((v - lo) / (hi - lo), 0), 1)) : 0);
  let uncertaintyMax = 0;
  if (o.uncertainty) for (const u of o.uncertainty) if (u > uncertaintyMax && Number.isFinite(u)) uncertaintyMax = u;

  // The legend flows left to right and wraps; each item is a swatch (or none) and a name.
  const sw = 7 * px, itemGap = 6 * px * 2;
  const items: { swatch?: 'fill' | 'contour' | 'ramp'; label: string }[] = [];
  if (o.prediction) items.push({ swatch: 'fill', label: 'prediction' });
  if (o.reference) items.push({ swatch: 'contour', label: 'reference' });
  if (o.uncertainty) items.push({ swatch: 'ramp', label: `uncertainty 0 to ${short(uncertaintyMax)}` });
  items.push({ label: `grey ${short(lo)} to ${short(hi)}` });
  const swatchW = (it: (typeof items)[number]) => (it.swatch === 'ramp' ? sw * 5 : it.swatch ? sw : 0);
  const itemW = (it: (typeof items)[number]) => (it.swatch ? swatchW(it) + 2 * px * 2 : 0) + textWidth(it.label, px);
  const width = Math.max(panelsW, MARGIN * 2 + Math.max(...items.map(itemW)));
  const placed: { x: number; line: number; it: (typeof items)[number] }[] = [];
  let x = MARGIN, line = 0;
  for (const it of items) {
    if (x > MARGIN && x + itemW(it) > width - MARGIN) { x = MARGIN; line++; }
    placed.push({ x, line, it });
    x += itemW(it) + itemGap;
  }
  const lineH = CELL_H * px + 4;
  const legendY = panelsH + GAP;
  const height = legendY + (line + 1) * lineH + MARGIN;

  const cv = new Canvas(width, height, BACKGROUND);
  for (const p of panels) {
    const x0 = colX[p.gridCol], y0 = rowY[p.gridRow];
    cv.text(x0, y0, `axis ${p.axis} slice ${p.index}`, px);
    drawPanel(cv, x0, y0 + captionH, p, s, o, grey, uncertaintyMax);
  }
  for (const { x, line, it } of placed) {
    const y = legendY + line * lineH;
    if (it.swatch === 'fill') {
      cv.rect(x, y, sw, sw, [128, 128, 128]);
      cv.rect(x, y, sw, sw, PREDICTION, PREDICTION_ALPHA);
    } else if (it.swatch === 'contour') {
      cv.rect(x, y, sw, sw, REFERENCE);
      cv.rect(x + px, y + px, sw - 2 * px, sw - 2 * px, BACKGROUND);
    } else if (it.swatch === 'ramp') {
      for (let k = 0; k < swatchW(it); k++) cv.rect(x + k, y, 1, sw, heat(k / (swatchW(it) - 1)));
    }
    cv.text(x + (it.swatch ? swatchW(it) + 2 * px * 2 : 0), y, it.label, px);
  }
  return encodePng(width, height, cv.rgba);
}
