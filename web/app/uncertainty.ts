// The uncertainty map the viewer overlays: the binary entropy of the foreground probability, in
// bits, so that 1 is a coin toss (p = 0.5) and 0 is certainty either way.

export function uncertainty(foreground: Float32Array): Float32Array {
  return foreground.map((p) => {
    const q = Math.min(Math.max(p, 1e-7), 1 - 1e-7);
    return -(q * Math.log(q) + (1 - q) * Math.log(1 - q)) / Math.LN2;
  });
}
