// Shrinks a strided index space before it reaches a kernel: size-1 axes go, and neighbouring axes
// that every operand walks contiguously merge into one.
export const MAX_RANK = 12; // strided.wgsl holds 3 vec4s per operand

export function collapse(shape: readonly number[], strideSets: readonly (readonly number[])[]):
    { shape: number[]; strides: number[][] } {
  const outShape: number[] = [];
  const outStrides: number[][] = strideSets.map(() => []);
  for (let d = 0; d < shape.length; d++) {
    if (shape[d] === 1) continue;
    const last = outShape.length - 1;
    const mergeable = last >= 0 && strideSets.every((s, k) => outStrides[k][last] === s[d] * shape[d]);
    if (mergeable) {
      outShape[last] *= shape[d];
      strideSets.forEach((s, k) => { outStrides[k][last] = s[d]; });
    } else {
      outShape.push(shape[d]);
      strideSets.forEach((s, k) => outStrides[k].push(s[d]));
    }
  }
  return { shape: outShape, strides: outStrides };
}
