// 3D convolution and transposed convolution with PyTorch's argument meanings. Both are built on the
// backend's three convolution kernels: forward, input gradient and weight gradient.
import type { ConvGeometry } from '../backend.ts';
import { record } from '../autograd.ts';
import { empty, Tensor } from '../tensor.ts';
import { triple } from '../shape-arithmetic.ts';
import { sumTo } from './broadcast.ts';
import { reshape } from './shape.ts';

export interface ConvOptions {
  stride?: number | number[];
  padding?: number | number[];
  dilation?: number | number[];
}

export interface ConvTransposeOptions extends ConvOptions {
  outputPadding?: number | number[];
}

function checkOperands(op: string, x: Tensor, w: Tensor, cinAxis: number) {
  if (x.rank !== 5 || w.rank !== 5) {
    throw new Error(`voxgrad: ${op} needs x [N,C,D,H,W] and a 5-D weight, got [${x.shape}] and [${w.shape}]`);
  }
  if (x.shape[1] !== w.shape[cinAxis]) {
    throw new Error(`voxgrad: ${op}: x has ${x.shape[1]} channels, weight [${w.shape}] expects ${w.shape[cinAxis]}`);
  }
}

function checkBias(bias: Tensor | undefined, channels: number) {
  if (bias && (bias.rank !== 1 || bias.shape[0] !== channels)) {
    throw new Error(`voxgrad: bias of shape [${bias.shape}] for ${channels} output channels`);
  }
}

/** The bias gradient: gy summed over batch and voxels, in the order a broadcast add's gradient sums. */
const biasGrad = (gy: Tensor, channels: number) => reshape(sumTo(gy, [1, channels, 1, 1, 1]), [channels]);

function convKernels(w: Tensor, g: ConvGeometry) {
  // The bias is added by the backend as the kernel writes its outputs.
  const forward = (a: Tensor, b: Tensor, bias?: Tensor) => {
    const y = empty([g.n, g.cout, ...g.out], a.backend);
    a.backend.conv3d(a.buf, b.buf, y.buf, g, bias?.buf);
    return y;
  };
  const backwardInput = (dy: Tensor, b: Tensor, bias?: Tensor) => {
    const dx = empty([g.n, g.cin, ...g.in], dy.backend);
    dy.backend.conv3dBackwardInput(dy.buf, b.buf, dx.buf, g, bias?.buf);
    return dx;
  };
  const backwardWeight = (a: Tensor, dy: Tensor) => {
    const dw = empty(w.shape, a.backend);
    a.backend.conv3dBackwardWeight(a.buf, dy.buf, dw.buf, g);
    return dw;
  };
  return { forward, backwardInput, backwardWeight };
}

/** y = x ⋆ w (+ bias); x [N, Cin, D, H, W], w [Cout, Cin, kD, kH, kW]. */
export function conv3d(x: Tensor, w: Tensor, bias?: Tensor, opts: ConvOptions = {}): Tensor {
  checkOperands('conv3d', x, w, 1);
  const stride = triple(opts.stride, 1, 'stride'), padding = triple(opts.padding, 0, 'padding');
  const dilation = triple(opts.dilation, 1, 'dilation');
  const kernel = [w.shape[2], w.shape[3], w.shape[4]] as [number, number, number];
  const inSize = [x.shape[2], x.shape[3], x.shape[4]] as [number, number, number];
  const out = inSize.map((s, i) => Math.floor((s + 2 * padding[i] - dilation[i] * (kernel[i] - 1) - 1) / stride[i]) + 1);
  if (out.some((s) => s < 1)) throw new Error(`voxgrad: conv3d output would be empty for input [${x.shape}], kernel [${kernel}]`);
  const g: ConvGeometry = { n: x.shape[0], cin: x.shape[1], cout: w.shape[0], in: inSize,
                            out: out as [number, number, number], kernel, stride, padding, dilation };
  checkBias(bias, g.cout);
  const k = convKernels(w, g);
  return record(k.forward(x, w, bias), bias ? [x, w, bias] : [x, w], 'conv3d', (gy) => [
    x.requiresGrad ? k.backwardInput(gy, w) : null,
    w.requiresGrad ? k.backwardWeight(x, gy) : null,
    bias?.requiresGrad ? biasGrad(gy, g.cout) : null,
  ]);
}

/** The gradient of conv3d with respect to its input, as a layer; w [Cin, Cout, kD, kH, kW]. */
export function convTranspose3d(x: Tensor, w: Tensor, bias?: Tensor, opts: ConvTransposeOptions = {}): Tensor {
  checkOperands('convTranspose3d', x, w, 0);
  const stride = triple(opts.stride, 1, 'stride'), padding = triple(opts.padding, 0, 'padding');
  const dilation = triple(opts.dilation, 1, 'dilation'), outputPadding = triple(opts.outputPadding, 0, 'outputPadding');
  if (outputPadding.some((p, i) => p >= Math.max(stride[i], dilation[i]))) {
    throw new Error(`voxgrad: outputPadding [${outputPadding}] must be smaller than stride or dilation`);
  }
  const kernel = [w.shape[2], w.shape[3], w.shape[4]] as [number, number, number];
  const xSize = [x.shape[2], x.shape[3], x.shape[4]] as [number, number, number];
  const ySize = xSize.map((s, i) => (s - 1) * stride[i] - 2 * padding[i] + dilation[i] * (kernel[i] - 1) + outputPadding[i] + 1);
  if (ySize.some((s) => s < 1)) throw new Error(`voxgrad: convTranspose3d output would be empty for input [${x.shape}]`);
  // As a convolution, y plays the input and x the output: cin = y's channels, cout = x's.
  const g: ConvGeometry = { n: x.shape[0], cin: w.shape[1], cout: w.shape[0], in: ySize as [number, number, number],
                            out: xSize, kernel, stride, padding, dilation };
  checkBias(bias, g.cin);
  const k = convKernels(w, g);
  return record(k.backwardInput(x, w, bias), bias ? [x, w, bias] : [x, w], 'convTranspose3d', (gy) => [
    x.requiresGrad ? k.forward(gy, w) : null,
    w.requiresGrad ? k.backwardWeight(gy, x) : null,
    bias?.requiresGrad ? biasGrad(gy, g.cin) : null,
  ]);
}
