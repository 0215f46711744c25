// Which route computes a convolution pass: per pass, a table of routes in order of preference, each
// with the condition under which it runs; the first whose condition holds is taken (convRoute names
// it, Device.convRoutes counts the routes that ran, so tests and benchmarks can tell which did).
import type { ConvGeometry } from '../../backend.ts';
import type { Device } from './device.ts';
import {
  disjointTaps, forwardFrame, gatheredBackwardInput, gatheredForward, gatheredWeightGrad, im2colBackwardInput, im2colForward,
  im2colWeightGrad, isStride1, patchBackwardInput, patchBackwardWeight, patchForward, patches2, shiftedBackwardInput,
  shiftedForward, shiftedWeightGrad, transposedIm2colBackwardInput, transposedIm2colWeightGrad, volume, weightGradFrame,
} from './conv.ts';
import { inputGradientForm, skipPaddingBackwardInput, skipPaddingForward, tapGroups } from './skip-padding.ts';
import { tilesOf, winogradConv, winogradWeightGrad, type WinogradConv } from './winograd.ts';

export type ConvPass = 'forward' | 'inputGrad' | 'weightGrad';

interface Route {
  name: string;
  /** Whether the route takes g; `winograd`: whether Winograd should, where it can. */
  when(g: ConvGeometry, winograd: boolean): boolean;
  /** The pass's two inputs (x and w, dy and w, x and dy) at a and b, its output at out. */
  run(dev: Device, a: number, b: number, out: number, g: ConvGeometry): void;
}

/** Stride-1, dilation-1 3×3×3: the convolutions (and input gradients) that Winograd can take. */
const winogradFits = (g: ConvGeometry) =>
  g.kernel.every((k) => k === 3) && isStride1(g) && g.dilation.every((d) => d === 1);

const forwardPlan = (g: ConvGeometry): WinogradConv => ({ n: g.n, cin: g.cin, m: g.cout, in: g.in, out: g.out, pad: g.padding });
/** The input gradient as a convolution of dy (channels swapped, kernel flipped, padding 2 − p). */
const inputGradientPlan = (g: ConvGeometry): WinogradConv =>
  ({ n: g.n, cin: g.cout, m: g.cin, in: g.out, out: g.in, pad: g.padding.map((p) => 2 - p) as WinogradConv['pad'] });

/**
 * Whether Winograd beats the GEMM routes, from timings at the V-Net layer shapes (npm run bench -- --sections conv):
 * it needs enough tiles to pay for the weight transform, and enough channel pairs for the multiplies it
 * saves; from 8 × 8 channels on it is faster than the GEMMs. Its rounding (about 1e-6 relative, against
 * 1e-7) stays within the forward tolerance; that it flips a few near-zero ReLUs of the V-Net relative to
 * float64 is why test/vnet.test.ts compares wasm's train pass under wasm's own ReLU decisions.
 */
function preferWinograd(p: WinogradConv): boolean {
  // above 128 × 128 channel pairs staged (winograd.ts): LA 256→256 @7×7×5 forward 26–29 against 42 ms
  // for the GEMM, one thread
  return p.cin >= 8 && p.m >= 8 && p.n * volume(tilesOf(p.out)) >= 16;
}
/**
 * The weight gradient: from 16 × 16 channel pairs (blocks of tiles, summed per group, winograd.ts) with
 * enough tiles (LA 128→128 @14×14×10: 44 against 79 ms, LA 256→256 @7×7×5: 33 against 44 ms, one
 * thread), and with fewer tiles from 128 × 128 on (128→128 @4×6×4, 24 tiles: 3.7 against 4.4 ms).
 */
function preferWinogradWeightGrad(p: WinogradConv): boolean {
  const tiles = p.n * volume(tilesOf(p.out)), pairs = p.cin * p.m;
  return p.cin >= 8 && p.m >= 8 && pairs >= 16 * 16 && (tiles >= 64 || (pairs >= 128 * 128 && tiles >= 16));
}

const positions = (g: ConvGeometry) => g.n * volume(g.out);
/** Below this many output positions in the batch, the lowered gradients take their transposed forms. */
const SHORT_REDUCTION = 2048;
/**
 * Below this many output positions the transposed im2col beats the gathered weight gradient, whose
 * per-tile stores then dominate (measured: behind at 24 positions, ahead at 48 and at 192).
 */
const GATHERED_DOT = 32;
const always = () => true;

const routes: Record<ConvPass, Route[]> = {
  forward: [
    { name: 'winograd', when: (g, winograd) => winograd && winogradFits(g),
      run: (dev, x, w, y, g) => winogradConv(dev, x, w, y, forwardPlan(g)) },
    { name: 'shifted', when: (g) => forwardFrame(g) !== null, run: shiftedForward },
    { name: 'patches', when: patches2, run: patchForward },
    { name: 'skip-padding', when: (g) => tapGroups(g) !== null, run: (dev, x, w, y, g) => skipPaddingForward(dev, x, w, y, g, tapGroups(g)!) },
    // measured at the k2s2 down-convs (before the patch kernels): clearly ahead at 12288 positions for 32 outputs,
    // even at 1536 for 64, behind at 192 for 128
    { name: 'gathered', when: (g) => positions(g) >= 4 * g.cout, run: gatheredForward },
    { name: 'im2col', when: always, run: im2colForward },
  ],
  inputGrad: [
    { name: 'winograd', when: (g, winograd) => winograd && winogradFits(g),
      run: (dev, dy, w, dx, g) => winogradConv(dev, dy, w, dx, inputGradientPlan(g), true) },
    { name: 'shifted', when: (g) => forwardFrame(g) !== null, run: shiftedBackwardInput },
    { name: 'patches', when: patches2, run: patchBackwardInput },
    { name: 'gathered', when: disjointTaps, run: gatheredBackwardInput },
    { name: 'skip-padding', when: (g) => isStride1(g) && tapGroups(inputGradientForm(g)) !== null,
      run: (dev, dy, w, dx, g) => skipPaddingBackwardInput(dev, dy, w, dx, g, tapGroups(inputGradientForm(g))!) },
    { name: 'im2col-transposed', when: (g) => positions(g) < SHORT_REDUCTION, run: transposedIm2colBackwardInput },
    { name: 'im2col', when: always, run: im2colBackwardInput },
  ],
  weightGrad: [
    { name: 'winograd', when: (g, winograd) => winograd && winogradFits(g),
      run: (dev, x, dy, dw, g) => winogradWeightGrad(dev, x, dy, dw, forwardPlan(g)) },
    { name: 'shifted', when: (g) => weightGradFrame(g) !== null, run: shiftedWeightGrad },
    { name: 'patches', when: patches2, run: patchBackwardWeight },
    { name: 'gathered', when: (g) => positions(g) >= GATHERED_DOT && positions(g) < SHORT_REDUCTION, run: gatheredWeightGrad },
    { name: 'im2col', when: (g) => positions(g) >= SHORT_REDUCTION, run: im2colWeightGrad },
    { name: 'im2col-transposed', when: always, run: transposedIm2colWeightGrad },
  ],
};

/** Every route of each pass, by name. */
export const convRouteNames = (pass: ConvPass) => routes[pass].map((r) => r.name);

const winogradPreferred: Record<ConvPass, (g: ConvGeometry) => boolean> = {
  forward: (g) => winogradFits(g) && preferWinograd(forwardPlan(g)),
  inputGrad: (g) => winogradFits(g) && preferWinograd(inputGradientPlan(g)),
  weightGrad: (g) => winogradFits(g) && preferWinogradWeightGrad(forwardPlan(g)),
};

const route = (pass: ConvPass, g: ConvGeometry, winograd = winogradPreferred[pass](g)) =>
  routes[pass].find((r) => r.when(g, winograd))!;

/** The route that runs pass on g; `winograd` overrides whether Winograd takes a convolution it can (tests use it). */
export const convRoute = (pass: ConvPass, g: ConvGeometry, winograd?: boolean) => route(pass, g, winograd).name;

function runConv(pass: ConvPass, dev: Device, a: number, b: number, out: number, g: ConvGeometry, winograd?: boolean) {
  const r = route(pass, g, winograd), key = `${pass} ${r.name}`;
  dev.convRoutes.set(key, (dev.convRoutes.get(key) ?? 0) + 1);
  r.run(dev, a, b, out, g);
}

export const conv3dForward = (dev: Device, x: number, w: number, y: number, g: ConvGeometry, winograd?: boolean) =>
  runConv('forward', dev, x, w, y, g, winograd);
export const conv3dBackwardInput = (dev: Device, dy: number, w: number, dx: number, g: ConvGeometry, winograd?: boolean) =>
  runConv('inputGrad', dev, dy, w, dx, g, winograd);
export const conv3dBackwardWeight = (dev: Device, x: number, dy: number, dw: number, g: ConvGeometry, winograd?: boolean) =>
  runConv('weightGrad', dev, x, dy, dw, g, winograd);
