// Training-report pictures: the PNG writer, the slice overlay and the training-curves SVG. The PNGs
// are decoded here, independently of the writer, and every CRC is recomputed.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as zlib from 'node:zlib';
import { crc32 } from '../nn/crc32.ts';
import { encodePng } from '../report/png.ts';
import { sliceOverlayPng } from '../report/slice-overlay.ts';
import { trainingCurvesSvg } from '../report/curves-svg.ts';
import type { IterationRecord } from '../train/loop/records.ts';

// zlib.crc32 arrived in Node 20.15; before that, a bitwise CRC-32 that shares nothing with png.ts's table.
const refCrc: (b: Uint8Array) => number = (zlib as { crc32?: (b: Uint8Array) => number }).crc32 ?? ((b) => {
  let c = 0xffffffff;
  for (const byte of b) {
    c ^= byte;
    for (let k = 0; k < 8; k++) c = (c >>> 1) ^ (0xedb88320 & -(c & 1));
  }
  return (c ^ 0xffffffff) >>> 0;
});

interface Chunk { type: string; data: Uint8Array }

function chunks(png: Uint8Array): Chunk[] {
  assert.equal([...png.subarray(0, 8)], [137, 80, 78, 71, 13, 10, 26, 10], 'PNG signature');
  const view = new DataView(png.buffer, png.byteOffset, png.byteLength);
  const out: Chunk[] = [];
  for (let at = 8; at < png.length;) {
    const len = view.getUint32(at);
    const type = String.fromCharCode(...png.subarray(at + 4, at + 8));
    const crc = view.getUint32(at + 8 + len);
    assert.is(crc, refCrc(png.subarray(at + 4, at + 8 + len)), `CRC of ${type}`);
    out.push({ type, data: png.subarray(at + 8, at + 8 + len) });
    at += 12 + len;
  }
  return out;
}

function decodePng(png: Uint8Array): { width: number; height: number; rgba: Uint8Array } {
  const cs = chunks(png);
  assert.equal(cs.map((c) => c.type), ['IHDR', 'IDAT', 'IEND']);
  const h = new DataView(cs[0].data.buffer, cs[0].data.byteOffset, 13);
  const width = h.getUint32(0), height = h.getUint32(4);
  assert.equal([...cs[0].data.subarray(8)], [8, 6, 0, 0, 0], 'bit depth 8, RGBA, deflate, filter method 0, no interlace');
  const raw = zlib.inflateSync(cs[1].data);
  assert.is(raw.length, height * (1 + 4 * width), 'IDAT inflates to one filter byte plus 4 bytes a pixel per row');
  const rgba = new Uint8Array(width * height * 4);
  for (let y = 0; y < height; y++) {
    assert.is(raw[y * (1 + 4 * width)], 0, 'filter type 0');
    rgba.set(raw.subarray(y * (1 + 4 * width) + 1, (y + 1) * (1 + 4 * width)), y * width * 4);
  }
  return { width, height, rgba };
}

test('crc32 gives the standard check value', () => {
  assert.is(crc32(new TextEncoder().encode('123456789')), 0xcbf43926);
});

test('encodePng writes a valid RGBA PNG whose pixels read back', () => {
  const w = 3, h = 2;
  const rgba = new Uint8Array(w * h * 4);
  rgba.set([10, 20, 30, 40], (1 * w + 2) * 4);
  rgba.set([255, 0, 128, 255], 0);
  const png = encodePng(w, h, rgba);
  const ihdr = chunks(png)[0];
  assert.is(ihdr.data.length, 13);
  assert.equal([...ihdr.data.subarray(0, 8)], [0, 0, 0, 3, 0, 0, 0, 2]);
  const d = decodePng(png);
  assert.is(d.width, 3);
  assert.is(d.height, 2);
  assert.equal([...d.rgba.subarray(20, 24)], [10, 20, 30, 40]);
  assert.equal([...d.rgba.subarray(0, 4)], [255, 0, 128, 255]);
  assert.equal([...d.rgba.subarray(4, 8)], [0, 0, 0, 0]);
  assert.throws(() => encodePng(3, 2, new Uint8Array(23)), /^voxgrad:.*24 bytes/);
  assert.throws(() => encodePng(0, 2, new Uint8Array(0)), /^voxgrad:/);
});

// ---- slice overlay ----

const px = (p: { width: number; rgba: Uint8Array }, x: number, y: number) => [...p.rgba.subarray((y * p.width + x) * 4, (y * p.width + x) * 4 + 3)];
const near = (a: number[], b: number[]) => a.every((v, i) => Math.abs(v - b[i]) <= 1);
// Documented colours: orange (230, 159, 0) at 45 % over the grey, sky blue (0, 190, 255) for the contour.
const FILL_ON_BLACK = [104, 72, 0];
const CONTOUR = [0, 190, 255];
const BLACK = [0, 0, 0];

/** Bounding box of the pixels that are black or orange on black: the slice panel of an all-zero image. */
function panelBox(p: { width: number; height: number; rgba: Uint8Array }) {
  let x0 = Infinity, y0 = Infinity, x1 = -1, y1 = -1;
  for (let y = 0; y < p.height; y++)
    for (let x = 0; x < p.width; x++) {
      const c = px(p, x, y);
      if (near(c, BLACK) || near(c, FILL_ON_BLACK)) { x0 = Math.min(x0, x); y0 = Math.min(y0, y); x1 = Math.max(x1, x); y1 = Math.max(y1, y); }
    }
  return { x0, y0, w: x1 - x0 + 1, h: y1 - y0 + 1 };
}

// A [D, H, W] = [5, 6, 4] volume; index = (d·6 + h)·4 + w.
const SHAPE: [number, number, number] = [5, 6, 4];
const N = 5 * 6 * 4;
const idx = (d: number, h: number, w: number) => (d * 6 + h) * 4 + w;
function masks() {
  const prediction = new Float32Array(N), reference = new Float32Array(N);
  // Slice d = 2: an L of prediction; d = 4: one predicted voxel elsewhere, to tell slices apart.
  for (const [h, w] of [[1, 1], [2, 1], [3, 1], [3, 2]]) prediction[idx(2, h, w)] = 1;
  prediction[idx(4, 0, 3)] = 1;
  for (let h = 1; h <= 3; h++) for (let w = 1; w <= 2; w++) reference[idx(2, h, w)] = 2; // label 2 counts as foreground
  reference[idx(4, 4, 2)] = 1;
  return { prediction, reference };
}

test('overlay: the prediction fill covers exactly the predicted voxels of the slice', () => {
  const { prediction } = masks();
  const s = 5;
  const p = decodePng(sliceOverlayPng({ image: new Float32Array(N), shape: SHAPE, prediction, axis: 0, index: 2, scale: s }));
  const box = panelBox(p);
  assert.equal([box.w, box.h], [4 * s, 6 * s], 'panel is W·s wide and H·s tall');
  let fills = 0;
  for (let y = 0; y < box.h; y++)
    for (let x = 0; x < box.w; x++) {
      const predicted = prediction[idx(2, Math.floor(y / s), Math.floor(x / s))] === 1;
      const c = px(p, box.x0 + x, box.y0 + y);
      assert.ok(near(c, predicted ? FILL_ON_BLACK : BLACK), `pixel ${x},${y}: ${c}`);
      if (predicted) fills++;
    }
  assert.is(fills, 4 * s * s);
});

test('overlay: default slice has the most reference foreground; the contour lines its edges', () => {
  const { prediction, reference } = masks();
  const s = 8;
  const p = decodePng(sliceOverlayPng({ image: new Float32Array(N), shape: SHAPE, prediction, reference, axis: 0, scale: s }));
  // The reference block spans h 1..3, w 1..2 of slice 2, so the panel starts one voxel left and above it.
  let bx = Infinity, by = Infinity;
  for (let y = 0; y < p.height; y++) for (let x = 0; x < p.width; x++) if (near(px(p, x, y), BLACK)) { bx = Math.min(bx, x); by = Math.min(by, y); }
  const centre = (h: number, w: number) => px(p, bx + w * s + s / 2, by + h * s + s / 2);
  for (let h = 0; h < 6; h++)
    for (let w = 0; w < 4; w++)
      assert.ok(near(centre(h, w), prediction[idx(2, h, w)] ? FILL_ON_BLACK : BLACK), `voxel ${h},${w} of slice 2: ${centre(h, w)}`);
  // Reference voxel (1, 1) borders background above and to the left: its top-left pixel is contour,
  // and voxel (2, 1), inside on three sides, still shows its left edge.
  assert.equal(px(p, bx + 1 * s, by + 1 * s), CONTOUR);
  assert.equal(px(p, bx + 1 * s, by + 2 * s + s / 2), CONTOUR);
  assert.ok(near(px(p, bx + 1 * s + s - 1, by + 2 * s + s / 2), FILL_ON_BLACK), 'the side shared with reference voxel (2, 2) has no contour');
  // Outside the reference nothing is contour coloured: voxel (0, 0) is all black.
  for (let y = 0; y < s; y++) for (let x = 0; x < s; x++) assert.equal(px(p, bx + x, by + y), BLACK);

  // Without a reference, the slice with the most prediction: again slice 2 (4 voxels against 1).
  const q = decodePng(sliceOverlayPng({ image: new Float32Array(N), shape: SHAPE, prediction: masks().prediction.map((v, i) => (i === idx(2, 1, 1) || i === idx(2, 2, 1) || i === idx(2, 3, 1) ? 0 : v)), axis: 2, scale: 4 }));
  // Along axis 2 (w) slice 1 now holds nothing, slice 2 one voxel (d2 h3), slice 3 one (d4 h0): the first maximum, w = 2, wins.
  const qb = panelBox(q);
  assert.equal([qb.w, qb.h], [6 * 4, 5 * 4], 'axis-2 panel is H·s wide and D·s tall');
  assert.ok(near(px(q, qb.x0 + 3 * 4 + 2, qb.y0 + 2 * 4 + 2), FILL_ON_BLACK));
  assert.ok(near(px(q, qb.x0 + 0 * 4 + 2, qb.y0 + 4 * 4 + 2), BLACK), 'd4 h0 is in slice w = 3, not drawn');
});

test('overlay: the contour turns inner corners too', () => {
  // An L of reference voxels (1, 1), (2, 1), (2, 2) on slice 0: voxel (2, 1) has reference above
  // and to the right but not above-right, so its top-right corner must carry the contour.
  const reference = new Float32Array(N);
  for (const [h, w] of [[1, 1], [2, 1], [2, 2]]) reference[idx(0, h, w)] = 1;
  const s = 8;
  const p = decodePng(sliceOverlayPng({ image: new Float32Array(N), shape: SHAPE, reference, axis: 0, index: 0, scale: s }));
  const b = panelBox(p);
  assert.equal([b.w, b.h], [4 * s, 6 * s]);
  assert.equal(px(p, b.x0 + 2 * s - 1, b.y0 + 2 * s), CONTOUR, 'inner corner');
  assert.equal(px(p, b.x0 + 2 * s - 3, b.y0 + 2 * s + 2), BLACK, 'next to it, inside the voxel');
  assert.equal(px(p, b.x0 + 2 * s, b.y0 + 2 * s - 1), BLACK, 'across the corner, outside the reference');
});

test('overlay: grey is windowed to the 1st–99th percentile', () => {
  const image = Float32Array.from({ length: N }, (_, i) => i);
  const p = decodePng(sliceOverlayPng({ image, shape: SHAPE, axis: 0, index: 2, scale: 3 }));
  // numpy.percentile(arange(120), [1, 99]) = 1.19, 117.81.
  const lo = 1.19, hi = 117.81;
  const grey = (v: number) => Math.round(255 * Math.min(Math.max((v - lo) / (hi - lo), 0), 1));
  // Find the panel as the bounding box of pure greys (r = g = b): nothing else in the picture is one.
  let x0 = Infinity, y0 = Infinity, x1 = -1, y1 = -1;
  for (let y = 0; y < p.height; y++)
    for (let x = 0; x < p.width; x++) {
      const [r, g, b] = px(p, x, y);
      if (r === g && g === b) { x0 = Math.min(x0, x); y0 = Math.min(y0, y); x1 = Math.max(x1, x); y1 = Math.max(y1, y); }
    }
  assert.equal([x1 - x0 + 1, y1 - y0 + 1], [12, 18]);
  for (let h = 0; h < 6; h++)
    for (let w = 0; w < 4; w++) assert.equal(px(p, x0 + w * 3 + 1, y0 + h * 3 + 1), Array(3).fill(grey(idx(2, h, w))), `voxel ${h},${w}`);
  const first = decodePng(sliceOverlayPng({ image, shape: SHAPE, axis: 0, index: 0, scale: 3 }));
  assert.equal(px(first, x0 + 1, y0 + 1), BLACK, 'value 0 is below the window');
});

test('overlay: default scale makes the short side at least 256 px', () => {
  const shape: [number, number, number] = [35, 50, 35];
  const n = 35 * 50 * 35;
  const prediction = new Uint8Array(n);
  prediction[(17 * 50 + 25) * 35 + 17] = 1;
  const image = new Float32Array(n);
  const a0 = panelBox(decodePng(sliceOverlayPng({ image, shape, prediction })));
  assert.equal([a0.w, a0.h], [280, 400], '35 × 50 at 8 px a voxel');
  const a1 = panelBox(decodePng(sliceOverlayPng({ image, shape, prediction, axis: 1 })));
  assert.equal([a1.w, a1.h], [280, 280]);
  const all = decodePng(sliceOverlayPng({ image, shape, prediction, axis: 'all' }));
  assert.ok(all.width >= 280 + 280 + 400, `three panels side by side: ${all.width} px`);
  assert.ok(all.height >= 400);
});

test('overlay: uncertainty gets its own heat-map panel, pale yellow at the maximum', () => {
  const uncertainty = new Float32Array(N);
  uncertainty[idx(2, 3, 3)] = 0.69;
  const p = decodePng(sliceOverlayPng({ image: new Float32Array(N), shape: SHAPE, uncertainty, axis: 0, index: 2, scale: 4 }));
  let hot = 0;
  for (let y = 0; y < p.height; y++) for (let x = 0; x < p.width; x++) if (near(px(p, x, y), [255, 250, 210])) hot++;
  assert.ok(hot >= 16, `one voxel of 4×4 px at the top colour (and the legend ramp's end): ${hot}`);
  assert.ok(p.width > 2 * 16, 'the heat map sits beside the overlay');
});

test('overlay: bad inputs are refused with voxgrad: messages', () => {
  assert.throws(() => sliceOverlayPng({ image: new Float32Array(10), shape: SHAPE }), /^voxgrad:.*image has 10/);
  assert.throws(() => sliceOverlayPng({ image: new Float32Array(N), shape: SHAPE, index: 5 }), /^voxgrad:.*index 5/);
  assert.throws(() => sliceOverlayPng({ image: new Float32Array(N), shape: SHAPE, prediction: new Uint8Array(3) }), /^voxgrad:.*prediction/);
});

// ---- training curves ----

/** Throws unless `xml` is one well-formed element tree: tags nest, attributes are quoted, & and < are escaped. */
function checkXml(xml: string) {
  const body = xml.replace(/^<\?xml[^?]*\?>\s*/, '');
  const stack: string[] = [];
  let roots = 0;
  const tag = /<(\/?)([A-Za-z][\w:-]*)((?:\s+[\w:-]+="[^"<]*")*)\s*(\/?)>/y;
  for (let i = 0; i < body.length;) {
    if (body[i] === '<') {
      tag.lastIndex = i;
      const m = tag.exec(body);
      if (!m) throw new Error(`malformed tag at ${i}: ${body.slice(i, i + 60)}`);
      const [, close, name, , self] = m;
      if (close) { if (stack.pop() !== name) throw new Error(`</${name}> closes the wrong element at ${i}`); }
      else if (!self) { if (stack.length === 0) roots++; stack.push(name); }
      i = tag.lastIndex;
    } else {
      const next = body.indexOf('<', i);
      const text = body.slice(i, next < 0 ? undefined : next);
      if (/&(?!amp;|lt;|gt;|quot;|apos;|#\d+;)/.test(text)) throw new Error(`unescaped & in ${text}`);
      if (stack.length === 0 && text.trim()) throw new Error(`text outside the root: ${text}`);
      i = next < 0 ? body.length : next;
    }
  }
  if (stack.length) throw new Error(`unclosed <${stack.join('> <')}>`);
  if (roots !== 1) throw new Error(`${roots} root elements`);
}

const seriesPaths = (svg: string) => [...svg.matchAll(/<path class="series" data-series="([^"]*)" d="([^"]*)"/g)].map((m) => ({ name: m[1], d: m[2] }));
const legend = (svg: string) => [...svg.matchAll(/<text class="legend"[^>]*>([^<]*)<\/text>/g)].map((m) => m[1]);

function run(n: number, consistency: (i: number) => number): IterationRecord[] {
  return Array.from({ length: n }, (_, k) => ({
    iteration: k + 1, loss: 1 / (k + 2) + 0.2, lr: 0.01,
    terms: { ce: 0.5 / (k + 2) + 0.1, dice: 0.6 / (k + 2) + 0.1, consistency: consistency(k) },
  }));
}

test('checkXml catches what it should', () => {
  checkXml('<svg a="1"><g><path d="M0 0"/></g></svg>');
  for (const bad of ['<svg><g></svg>', '<svg a=1></svg>', '<svg>a & b</svg>', '<svg></svg><svg></svg>', '<svg><g></g>'])
    assert.throws(() => checkXml(bad), undefined, bad);
});

test('curves: one path per loss term and for Dice, a legend, the best point', () => {
  const svg = trainingCurvesSvg({
    iterations: run(50, () => 0.3),
    validation: [{ iteration: 10, dice: 0.3 }, { iteration: 20, dice: 0.8 }, { iteration: 30, dice: 0.6, cases: 2 }],
  }, { title: 'a<b & "c"' });
  checkXml(svg);
  assert.ok(svg.startsWith('<?xml'));
  assert.ok(svg.includes('xmlns="http://www.w3.org/2000/svg"'));
  assert.not.match(svg, /<script|href=|@import|url\((?!#)/, 'nothing external');
  assert.equal(seriesPaths(svg).map((p) => p.name), ['loss', 'ce', 'dice', 'consistency', 'Dice']);
  assert.equal(legend(svg), ['loss', 'ce', 'dice', 'consistency', 'Dice']);
  for (const p of seriesPaths(svg)) assert.match(p.d, /^M[\d.]+ [\d.]+(L[\d.]+ [\d.]+)+$/, `${p.name}: one unbroken line`);
  assert.ok(svg.includes('best 0.8000 at 20'));
  assert.ok(svg.includes('a&lt;b &amp; &quot;c&quot;'));
  assert.ok(!svg.includes('log scale'), 'values within two decades stay linear');
  assert.ok(!svg.includes('class="raw"'), 'no smoothing for a short run');
  // The Dice axis runs 0 to 1.
  assert.match(svg, />0\.0<\/text>/);
  assert.match(svg, />1\.0<\/text>/);
});

test('curves: log scale past two decades, smoothing for long runs', () => {
  const svg = trainingCurvesSvg({ iterations: run(500, (k) => 1e-3 * (1 + k / 100)), validation: [] });
  checkXml(svg);
  assert.ok(svg.includes('loss (log scale)'));
  for (const d of ['0.001', '0.01', '0.1', '1']) assert.match(svg, new RegExp(`>${d.replace('.', '\\.')}</text>`), `decade ${d}`);
  const wide = trainingCurvesSvg({ iterations: run(50, (k) => 1e-5 * (1 + k)), validation: [] });
  checkXml(wide);
  for (const k of ['−5', '−4', '−3', '−2', '−1', '0']) assert.ok(wide.includes(`10<tspan dy="-0.5em" font-size="8">${k}</tspan>`), `10^${k}`);
  assert.is((svg.match(/class="raw"/g) ?? []).length, 4, 'a faint raw line under each smoothed loss series');
  assert.equal(seriesPaths(svg).map((p) => p.name), ['loss', 'ce', 'dice', 'consistency'], 'no Dice line without validation');
});

test('curves: empty, one-point and NaN series draw without throwing', () => {
  const empty = trainingCurvesSvg({ iterations: [], validation: [] });
  checkXml(empty);
  assert.is((empty.match(/no data/g) ?? []).length, 2);

  const one = trainingCurvesSvg({ iterations: [{ iteration: 1, loss: 0.7, terms: { ce: 0.5 }, lr: 0.01 }], validation: [{ iteration: 1, dice: NaN }] });
  checkXml(one);
  assert.ok(one.includes('<circle'), 'a lone point is drawn as a dot');
  assert.ok(!one.includes('NaN'), 'no NaN coordinates');

  const its = run(20, () => 0.3);
  its[9].terms.ce = NaN;
  its[3].loss = Infinity;
  const gaps = trainingCurvesSvg({ iterations: its, validation: [] });
  checkXml(gaps);
  assert.ok(!/NaN|Infinity/.test(gaps));
  const paths = seriesPaths(gaps);
  assert.is((paths.find((p) => p.name === 'ce')!.d.match(/M/g) ?? []).length, 2, 'the NaN breaks the ce line in two');
  assert.is((paths.find((p) => p.name === 'loss')!.d.match(/M/g) ?? []).length, 2, 'so does the infinite total');
});

test('curves: a long run stays small', () => {
  const svg = trainingCurvesSvg({ iterations: run(20000, (k) => 0.1 + 0.05 * Math.sin(k)), validation: [] });
  checkXml(svg);
  assert.ok(svg.length < 600_000, `${svg.length} characters`);
});

test.run();
