// The V-Net's convolution shapes, for the per-layer benchmarks.
import type { ConvGeometry } from '../../engine/backend.ts';

export type Triple = [number, number, number];
export interface Layer { name: string; n: number; cin: number; cout: number; in: Triple; kernel: Triple; stride: Triple; padding: Triple }

const conv = (name: string, n: number, cin: number, cout: number, size: Triple, k: number, s: number, p: number): Layer =>
  ({ name, n, cin, cout, in: size, kernel: [k, k, k], stride: [s, s, s], padding: [p, p, p] });

/**
 * The V-Net (n_filters 16) convolution shapes at a patch, batch 2: the input conv, each level's 3×3×3
 * conv, the two largest k2s2 downsamplings and, optionally, the 1×1×1 head.
 */
export function vnetLayers(patch: Triple, prefix: string, head: boolean): Layer[] {
  const at = (level: number) => patch.map((s) => s >> level) as Triple;
  const layers = [conv(`${prefix}in 1→16 @${at(0).join('×')}`, 2, 1, 16, at(0), 3, 1, 1)];
  for (let level = 0; level <= 4; level++) {
    const c = 16 << level;
    layers.push(conv(`${prefix}${c}→${c} @${at(level).join('×')}`, 2, c, c, at(level), 3, 1, 1));
    if (level < 2) layers.push(conv(`${prefix}down ${c}→${2 * c} k2s2`, 2, c, 2 * c, at(level), 2, 2, 0));
  }
  if (head) layers.push(conv(`${prefix}head 16→2 k1`, 2, 16, 2, at(0), 1, 1, 0));
  return layers;
}

export const hippocampusLayers = () => vnetLayers([32, 48, 32], '', true);
export const laLayers = () => vnetLayers([112, 112, 80], 'LA ', false);

export function geometry(l: Layer): ConvGeometry {
  const out = l.in.map((v, i) => Math.floor((v + 2 * l.padding[i] - l.kernel[i]) / l.stride[i]) + 1) as Triple;
  return { n: l.n, cin: l.cin, cout: l.cout, in: l.in, out, kernel: l.kernel, stride: l.stride, padding: l.padding, dilation: [1, 1, 1] };
}
