// Convolution geometries for the backend suites, the output size computed as engine/ops/conv.ts does.
import type { ConvGeometry } from '../../engine/backend.ts';

type Triple = [number, number, number];

export function convGeometry(n: number, cin: number, cout: number, inp: Triple, kernel: Triple, stride: Triple,
                             padding: Triple, dilation: Triple): ConvGeometry {
  const out = inp.map((v, i) => Math.floor((v + 2 * padding[i] - dilation[i] * (kernel[i] - 1) - 1) / stride[i]) + 1) as Triple;
  return { n, cin, cout, in: inp, out, kernel, stride, padding, dilation };
}
