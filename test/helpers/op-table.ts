// Each fixture op name mapped to the voxgrad call with PyTorch's argument meanings.
import * as vg from '../../index.ts';
import type { Tensor } from '../../index.ts';

type OpFn = (xs: Tensor[], a: Record<string, any>) => Tensor | Tensor[];

const unary = (f: (x: Tensor) => Tensor): OpFn => ([x]) => f(x);
const binary = (f: (x: Tensor, y: Tensor) => Tensor): OpFn => ([x, y]) => f(x, y);

/** The fused ReLU and residual of the normalisation ops, when a case asks for them. */
const epilogue = (a: Record<string, any>, residual?: Tensor) => ({ relu: !!a.relu, residual: a.residual ? residual : undefined });

export const opTable: Record<string, OpFn> = {
  neg: unary(vg.neg), exp: unary(vg.exp), log: unary(vg.log), sqrt: unary(vg.sqrt), square: unary(vg.square),
  abs: unary(vg.abs), tanh: unary(vg.tanh), sigmoid: unary(vg.sigmoid), relu: unary(vg.relu),
  clamp: ([x], a) => vg.clamp(x, a.min, a.max),
  pow: ([x], a) => vg.pow(x, a.exponent),
  add: binary(vg.add), sub: binary(vg.sub), mul: binary(vg.mul), div: binary(vg.div),
  lt: binary(vg.lt), le: binary(vg.le), gt: binary(vg.gt), ge: binary(vg.ge), eq: binary(vg.eq), ne: binary(vg.ne),
  where: ([c, x, y]) => vg.where(c, x, y),
  sum: ([x], a) => vg.sum(x, a.axis, a.keepdim),
  mean: ([x], a) => vg.mean(x, a.axis, a.keepdim),
  max: ([x], a) => vg.max(x, a.axis, a.keepdim),
  argmax: ([x], a) => vg.argmax(x, a.axis, a.keepdim),
  reshape: ([x], a) => vg.reshape(x, a.shape),
  permute: ([x], a) => vg.permute(x, a.perm),
  transpose: ([x], a) => vg.transpose(x, a.a, a.b),
  slice: ([x], a) => vg.slice(x, a.ranges),
  pad: ([x], a) => vg.pad(x, a.pads, a.value),
  concat: (xs, a) => vg.concat(xs, a.axis),
  repeat: ([x], a) => vg.repeat(x, a.reps),
  flip: ([x], a) => vg.flip(x, a.axes),
  rot90: ([x], a) => vg.rot90(x, a.k, a.axes),
  expand: ([x], a) => vg.expand(x, a.shape),
  softmax: ([x], a) => vg.softmax(x, a.axis),
  logSoftmax: ([x], a) => vg.logSoftmax(x, a.axis),
  matmul: binary(vg.matmul),
  conv3d: ([x, w, b], a) => vg.conv3d(x, w, b, a),
  convTranspose3d: ([x, w, b], a) => vg.convTranspose3d(x, w, b, a),
  batchNorm3d: ([x, w, b, rm, rv, residual], a) => {
    const y = vg.batchNorm3d(x, w, b, rm, rv, { training: a.training, ...epilogue(a, residual) });
    return a.training ? [y, rm, rv] : y;
  },
  instanceNorm3d: ([x, w, b, residual], a) => vg.instanceNorm3d(x, w, b, epilogue(a, residual)),
  groupNorm: ([x, w, b, residual], a) => vg.groupNorm(x, a.groups, w, b, epilogue(a, residual)),
  dropout3d: ([x], a) => vg.dropout3d(x, a.p, { mask: a.mask }),
  crossEntropy: binary(vg.crossEntropy),
  mse: binary(vg.mse),
};

/** Runs a case's op; the first output is the one gradients flow from. */
export function runOp(op: string, xs: Tensor[], attrs: Record<string, any>): Tensor[] {
  const fn = opTable[op];
  if (!fn) throw new Error(`no voxgrad mapping for fixture op '${op}'`);
  const out = fn(xs, attrs);
  return Array.isArray(out) ? out : [out];
}
