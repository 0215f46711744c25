// ReLU decisions of the fused epilogue (Backend.channelAffine with relu), recorded on a backend whose
// memory can be read synchronously (wasm), and imposed on the float64 oracle (ref64), so that a whole
// V-Net pass can be compared with the oracle given the same ReLU decisions. Float32 and float64 can
// disagree on the sign of a ReLU input that lies within round-off of 0, and one such unit moves
// train-mode gradients by up to ~1e-2 (batch norm spreads it over its channel): that is conditioning,
// not error, so the oracle is given our decisions and every disagreement must be within round-off.
import type { Backend, BackendBuffer } from '../../engine/backend.ts';

type Affine = Backend['channelAffine'];

/** Records, per ReLU epilogue call in order, which outputs were switched on; `restore` undoes it. */
export function recordWasmMasks(be: Backend): { masks: Uint8Array[]; restore: () => void } {
  const masks: Uint8Array[] = [];
  const original = be.channelAffine;
  const heap = () => (be as any).device.heap.f32 as Float32Array;
  const view = (b: BackendBuffer) => heap().subarray((b as any).ptr >>> 2, ((b as any).ptr >>> 2) + b.size);
  be.channelAffine = function (x, scale, shift, residual, out, n, c, vol, relu) {
    if (!relu) return original.call(be, x, scale, shift, residual, out, n, c, vol, relu);
    // without the residual, out > 0 exactly where the unit is on; adding the residual afterwards in
    // float32 (fround of the double sum is the float32 sum) gives the fused kernel's result bit for bit
    original.call(be, x, scale, shift, null, out, n, c, vol, true);
    const o = view(out), mask = new Uint8Array(o.length);
    for (let i = 0; i < o.length; i++) mask[i] = o[i] > 0 ? 1 : 0;
    if (residual) {
      const r = view(residual);
      for (let i = 0; i < o.length; i++) o[i] = Math.fround(o[i] + r[i]);
    }
    masks.push(mask);
  } as Affine;
  return { masks, restore: () => { be.channelAffine = original; } };
}

export interface Disagreement { call: number; index: number; z: number; layerMax: number }

/**
 * Makes the ref/ref64 backend's ReLU epilogues follow `masks` (forward and both backward kernels);
 * returns the units where the oracle's own decision differs, with its ReLU input there.
 */
export function imposeMasks(be: Backend, masks: Uint8Array[]): { disagreements: Disagreement[]; calls: () => number; restore: () => void } {
  const disagreements: Disagreement[] = [];
  const byInput = new Map<BackendBuffer, Uint8Array>();
  const data = (b: BackendBuffer) => (b as any).data as Float64Array | Float32Array;
  const { channelAffine, channelAffineBackward, channelAffineBackwardInput } = be;
  let call = 0;
  be.channelAffine = function (x, scale, shift, residual, out, n, c, vol, relu) {
    if (!relu) return channelAffine.call(be, x, scale, shift, residual, out, n, c, vol, relu);
    const mask = masks[call];
    if (!mask || mask.length !== out.size) throw new Error(`ReLU epilogue ${call}: no recorded mask of ${out.size} units`);
    channelAffine.call(be, x, scale, shift, null, out, n, c, vol, false); // z itself
    const z = data(out), r = residual ? data(residual) : null;
    let layerMax = 0;
    for (let i = 0; i < z.length; i++) layerMax = Math.max(layerMax, Math.abs(z[i]));
    for (let i = 0; i < z.length; i++) {
      if ((z[i] > 0 ? 1 : 0) !== mask[i]) disagreements.push({ call, index: i, z: z[i], layerMax });
      z[i] = (mask[i] ? z[i] : 0) + (r ? r[i] : 0);
    }
    byInput.set(x, mask);
    call++;
  } as Affine;
  /** gy with the units the mask switches off zeroed: the kernels then run without their own ReLU test. */
  const masked = (gy: BackendBuffer, mask: Uint8Array) => {
    const g = be.alloc(gy.size), src = data(gy), dst = data(g);
    for (let i = 0; i < dst.length; i++) dst[i] = mask[i] ? src[i] : 0;
    return g;
  };
  be.channelAffineBackward = function (gy, x, scale, shift, sums, n, c, vol, relu) {
    const mask = relu ? byInput.get(x) : undefined;
    if (!mask) return channelAffineBackward.call(be, gy, x, scale, shift, sums, n, c, vol, relu);
    const g = masked(gy, mask);
    channelAffineBackward.call(be, g, x, scale, shift, sums, n, c, vol, false);
    be.free(g);
  } as Backend['channelAffineBackward'];
  be.channelAffineBackwardInput = function (gy, x, scale, shift, a, b, gx, n, c, vol, relu) {
    const mask = relu ? byInput.get(x) : undefined;
    if (!mask) return channelAffineBackwardInput.call(be, gy, x, scale, shift, a, b, gx, n, c, vol, relu);
    const g = masked(gy, mask);
    channelAffineBackwardInput.call(be, g, x, scale, shift, a, b, gx, n, c, vol, false);
    be.free(g);
  } as Backend['channelAffineBackwardInput'];
  return {
    disagreements,
    calls: () => call,
    restore: () => Object.assign(be, { channelAffine, channelAffineBackward, channelAffineBackwardInput }),
  };
}
