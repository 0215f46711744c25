// Index-space simplification for the strided kernels: size-1 axes go, and neighbouring axes merge
// wherever every operand walks them as one, so the kernels see few axes and long inner runs.

const MAX_RANK = 16;

/** Row-major strides of a contiguous array of this shape. */
export function contiguousStrides(shape: number[]): number[] {
  const s = new Array<number>(shape.length);
  for (let d = shape.length - 1, acc = 1; d >= 0; d--) { s[d] = acc; acc *= shape[d]; }
  return s;
}

/**
 * The descriptor the strided kernels read: [rank, shape…, strides of each operand…], after collapsing.
 * Operand 0 should be the output's flat index (contiguous strides of `shape`).
 */
export function descriptor(shape: number[], operands: number[][]): number[] {
  const axes: { size: number; strides: number[] }[] = [];
  for (let d = 0; d < shape.length; d++) {
    if (shape[d] === 1) continue;
    const strides = operands.map((s) => s[d]);
    const last = axes[axes.length - 1];
    if (last && strides.every((s, k) => last.strides[k] === s * shape[d])) {
      last.size *= shape[d];
      last.strides = strides;
    } else {
      axes.push({ size: shape[d], strides });
    }
  }
  if (!axes.length) axes.push({ size: 1, strides: operands.map(() => 0) });
  // the kernels keep one 64-byte multi-index per part (asm/elementwise.ts)
  if (axes.length > MAX_RANK) {
    throw new Error(`voxgrad wasm backend (engine/backends/wasm/layout.ts): ${axes.length} axes after merging; at most ${MAX_RANK}`);
  }
  const out = [axes.length, ...axes.map((a) => a.size)];
  for (let k = 0; k < operands.length; k++) for (const a of axes) out.push(a.strides[k]);
  return out;
}
