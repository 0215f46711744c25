// Sliding-window inference exactly as the UA-MT/DTC/UG-MCL `test_single_case` (docs/method.md §7):
// centred zero padding up to the patch, n = ⌈(S − P)/stride⌉ + 1 windows per axis starting at
// min(stride·i, S − P), class probabilities summed over windows and divided by the per-voxel count,
// label = argmax, padding cropped away. Windows go through the network in batches.
import * as vg from '../engine/index.ts';
import type { Tensor } from '../engine/index.ts';

export type Shape3 = [number, number, number];

export interface SlidingWindowOptions {
  patch: Shape3;
  /** Window step per axis (the paper's LA setting is [18, 18, 4]). */
  stride: Shape3;
  /** Windows per network call. */
  batch?: number;
  /** Called after each batch with (windows done, windows in all). */
  onProgress?: (done: number, total: number) => void;
}

export interface SlidingWindowResult {
  /** [C, D, H, W] averaged probabilities, row-major. */
  probs: Float32Array;
  /** [D, H, W] argmax over classes (p > 0.5 for a single channel). */
  label: Uint8Array;
  classes: number;
}

/** Window start offsets along one axis. */
export function windowStarts(size: number, patch: number, stride: number): number[] {
  const count = Math.ceil((size - patch) / stride) + 1;
  return Array.from({ length: count }, (_, i) => Math.min(stride * i, size - patch));
}

/**
 * `image` is [D, H, W] row-major (the array as the PyTorch code feeds it, e.g. the LA h5 (x, y, z));
 * `predict` maps a batch [B, 1, pD, pH, pW] to class probabilities [B, C, pD, pH, pW].
 */
export async function slidingWindow(image: Float32Array, shape: Shape3, predict: (x: Tensor) => Tensor,
                                    opts: SlidingWindowOptions): Promise<SlidingWindowResult> {
  const { patch, stride, batch = 1 } = opts;
  if (image.length !== shape[0] * shape[1] * shape[2]) {
    throw new Error(`slidingWindow: image has ${image.length} voxels, shape [${shape}] needs ${shape[0] * shape[1] * shape[2]}`);
  }
  const padBefore = shape.map((s, i) => Math.floor(Math.max(patch[i] - s, 0) / 2)) as Shape3;
  const padded = shape.map((s, i) => Math.max(s, patch[i])) as Shape3;
  const [PD, PH, PW] = padded;
  const source = new Float32Array(PD * PH * PW);
  for (let d = 0; d < shape[0]; d++) {
    for (let h = 0; h < shape[1]; h++) {
      const from = (d * shape[1] + h) * shape[2];
      const to = ((d + padBefore[0]) * PH + h + padBefore[1]) * PW + padBefore[2];
      source.set(image.subarray(from, from + shape[2]), to);
    }
  }
  const starts: Shape3[] = [];
  for (const d of windowStarts(PD, patch[0], stride[0]))
    for (const h of windowStarts(PH, patch[1], stride[1]))
      for (const w of windowStarts(PW, patch[2], stride[2])) starts.push([d, h, w]);

  const patchVol = patch[0] * patch[1] * patch[2];
  const count = new Float32Array(PD * PH * PW);
  let score: Float32Array | null = null;
  let classes = 0;
  for (let first = 0; first < starts.length; first += batch) {
    const group = starts.slice(first, first + batch);
    const input = new Float32Array(group.length * patchVol);
    group.forEach((s, b) => visitPatch(s, patch, padded, (src, dst) => { input[b * patchVol + dst] = source[src]; }));
    const out = vg.scope(() => {
      const x = vg.tensor(input, [group.length, 1, ...patch]);
      return vg.noGrad(() => predict(x));
    });
    const probs = await out.data();
    out.dispose();
    classes = probs.length / (group.length * patchVol);
    score ??= new Float32Array(classes * PD * PH * PW);
    const plane = PD * PH * PW;
    group.forEach((s, b) => visitPatch(s, patch, padded, (src, dst) => {
      for (let c = 0; c < classes; c++) score![c * plane + src] += probs[(b * classes + c) * patchVol + dst];
      count[src] += 1;
    }));
    opts.onProgress?.(Math.min(first + batch, starts.length), starts.length);
  }
  return crop(score!, count, classes, shape, padded, padBefore);
}

/** Calls fn(index in the padded volume, index in the patch) for every voxel of the window at s. */
function visitPatch(s: Shape3, patch: Shape3, padded: Shape3, fn: (src: number, dst: number) => void) {
  for (let d = 0; d < patch[0]; d++)
    for (let h = 0; h < patch[1]; h++) {
      const src = ((s[0] + d) * padded[1] + s[1] + h) * padded[2] + s[2];
      const dst = (d * patch[1] + h) * patch[2];
      for (let w = 0; w < patch[2]; w++) fn(src + w, dst + w);
    }
}

function crop(score: Float32Array, count: Float32Array, classes: number, shape: Shape3, padded: Shape3,
              padBefore: Shape3): SlidingWindowResult {
  const vol = shape[0] * shape[1] * shape[2], plane = padded[0] * padded[1] * padded[2];
  const probs = new Float32Array(classes * vol);
  let i = 0;
  for (let d = 0; d < shape[0]; d++)
    for (let h = 0; h < shape[1]; h++)
      for (let w = 0; w < shape[2]; w++, i++) {
        const src = ((d + padBefore[0]) * padded[1] + h + padBefore[1]) * padded[2] + w + padBefore[2];
        for (let c = 0; c < classes; c++) probs[c * vol + i] = score[c * plane + src] / count[src];
      }
  return { probs, label: argmaxLabel(probs, classes, vol), classes };
}

/**
 * The label of class probabilities [C, vol]: argmax, the first class on ties as numpy's; a single
 * channel is a sigmoid head (DTC/DTML): foreground where p > 0.5.
 */
export function argmaxLabel(probs: Float32Array, classes: number, vol: number): Uint8Array {
  const label = new Uint8Array(vol);
  for (let i = 0; i < vol; i++) {
    if (classes === 1) { label[i] = +(probs[i] > 0.5); continue; }
    let best = 0;
    for (let c = 1; c < classes; c++) if (probs[c * vol + i] > probs[best * vol + i]) best = c;
    label[i] = best;
  }
  return label;
}
