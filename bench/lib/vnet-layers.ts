// The V-Net's convolution shapes, for the per-layer benchmarks.
import type { ConvGeometry } from '../../engine/backend.ts';

export type Triple = [number, number, number];
/** A convolution, or with `transposed` a ConvTranspose3d whose `in` is its input and whose output is larger. */
export interface Layer {
  name: string; n: number; cin: number; cout: number; in: Triple; kernel: Triple; stride: Triple; padding: Triple;
  transposed?: boolean;
}

const conv = (name: string, n: number, cin: number, cout: number, size: Triple, k: number, s: number, p: number): Layer =>
  ({ name, n, cin, cout, in: size, kernel: [k, k, k], stride: [s, s, s], padding: [p, p, p] });

/**
 * The V-Net (n_filters 16) convolution shapes at a patch, batch 2: the input conv, each level's 3×3×3
 * conv, the two largest k2s2 downsamplings and the two largest k2s2 transposed upsamplings, and,
 * optionally, the 1×1×1 head.
 */
export function vnetLayers(patch: Triple, prefix: string, head: boolean): Layer[] {
  const at = (level: number) => patch.map((s) => s >> level) as Triple;
  const layers = [conv(`${prefix}in 1→16 @${at(0).join('×')}`, 2, 1, 16, at(0), 3, 1, 1)];
  for (let level = 0; level <= 4; level++) {
    const c = 16 << level;
    layers.push(conv(`${prefix}${c}→${c} @${at(level).join('×')}`, 2, c, c, at(level), 3, 1, 1));
    if (level < 2) layers.push(conv(`${prefix}down ${c}→${2 * c} k2s2`, 2, c, 2 * c, at(level), 2, 2, 0));
  }
  for (let level = 1; level >= 0; level--) {
    const c = 16 << level;
    layers.push({ ...conv(`${prefix}up ${2 * c}→${c} k2s2ᵀ`, 2, 2 * c, c, at(level + 1), 2, 2, 0), transposed: true });
  }
  if (head) layers.push(conv(`${prefix}head 16→2 k1`, 2, 16, 2, at(0), 1, 1, 0));
  return layers;
}

export const hippocampusLayers = () => vnetLayers([32, 48, 32], '', true);
export const laLayers = () => vnetLayers([112, 112, 80], 'LA ', false);

/**
 * The conv3d geometry a layer runs with. For a transposed layer, the convolution it is the input
 * gradient of: in and out swap, and so do the channel counts.
 */
export function geometry(l: Layer): ConvGeometry {
  const base = { n: l.n, kernel: l.kernel, stride: l.stride, padding: l.padding, dilation: [1, 1, 1] as Triple };
  if (l.transposed) {
    const out = l.in.map((v, i) => (v - 1) * l.stride[i] - 2 * l.padding[i] + l.kernel[i]) as Triple;
    return { ...base, cin: l.cout, cout: l.cin, in: out, out: l.in };
  }
  const out = l.in.map((v, i) => Math.floor((v + 2 * l.padding[i] - l.kernel[i]) / l.stride[i]) + 1) as Triple;
  return { ...base, cin: l.cin, cout: l.cout, in: l.in, out };
}

const vol = (d: Triple) => d[0] * d[1] * d[2];
/** Floating-point operations of one pass (each of forward, input and weight gradient costs the same). */
export const layerFlop = (l: Layer) => {
  const g = geometry(l);
  return 2 * g.n * g.cout * vol(g.out) * g.cin * vol(g.kernel);
};
