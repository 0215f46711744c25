// Which GEMM operands gemm_core.wgsl may stage with 16-byte (vec4) loads, and along which direction
// (its A_VEC / B_VEC override constants). An operand qualifies when the runs along that direction are
// contiguous in memory, start on a multiple of 4 floats and have a length that is a multiple of 4:
// then every group of four lies wholly inside or outside the tile's range and no load needs a
// per-element test. Otherwise the operand keeps one float per load. The choice is per dispatch, not
// per element, so each variant is its own pipeline.
import type { ConvGeometry } from '../../backend.ts';

/** A_VEC: 0 scalar, 1 along K, 2 along M. B_VEC: 0 scalar, 1 along N, 2 along K. */
export interface VecLoads { A_VEC: number; B_VEC: number }

const quad = (n: number) => n % 4 === 0;
const vol = (v: readonly number[]) => v[0] * v[1] * v[2];

/** [M,K]·[K,N] (stored [K,M] / [N,K] when transposed); batches start at multiples of M·K and K·N. */
export function matmulVec(m: number, k: number, n: number, transA: boolean, transB: boolean): VecLoads {
  return {
    A_VEC: transA ? (quad(m) ? 2 : 0) : (quad(k) ? 1 : 0),
    B_VEC: transB ? (quad(k) ? 2 : 0) : (quad(n) ? 1 : 0),
  };
}

/** Kernel 1, stride 1, no padding: B is the volume itself rather than a gather (conv3d.wgsl). */
function pointwise(g: ConvGeometry): boolean {
  return [0, 1, 2].every((d) => g.kernel[d] === 1 && g.stride[d] === 1 && g.padding[d] === 0);
}

/** For conv3d.wgsl's MODE (0 forward, 1 input gradient, 2 weight gradient, 3 input gradient by taps). */
export function convVec(mode: 0 | 1 | 2 | 3, g: ConvGeometry): VecLoads {
  const direct = pointwise(g) && quad(vol(g.out));
  switch (mode) {
    case 0: return { A_VEC: quad(g.cin * vol(g.kernel)) ? 1 : 0, B_VEC: direct ? 1 : 0 }; // w rows; x rows
    case 1: return { A_VEC: quad(vol(g.kernel)) ? 1 : 0, B_VEC: 0 };                      // w taps; dy gathered
    case 2: return { A_VEC: quad(vol(g.out)) ? 1 : 0, B_VEC: direct ? 2 : 0 };            // dy rows; x rows
    // A = w at one tap: its rows along Cin are contiguous only for a one-tap kernel (pointwise
    // geometry, whose input gradient always comes here).
    case 3: return { A_VEC: vol(g.kernel) === 1 && quad(g.cin) ? 2 : 0, B_VEC: quad(vol(g.out)) ? 1 : 0 };
  }
}
