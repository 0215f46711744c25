// Elementwise ops with PyTorch broadcasting, and their gradients.
import type { BinaryOp } from '../backend.ts';
import { record } from '../autograd.ts';
import { empty, type Tensor } from '../tensor.ts';
import { broadcastShapes, broadcastStrides } from '../shape-arithmetic.ts';
import { sumTo } from './broadcast.ts';
import { full } from './create.ts';
import { binaryRaw, operands, type TensorLike, unaryRaw } from './kernels.ts';

export { zerosLike, onesLike } from './create.ts';

export function add(a: TensorLike, b: TensorLike): Tensor {
  const [x, y] = operands(a, b);
  return record(binaryRaw('add', x, y), [x, y], 'add', (g) => [sumTo(g, x.shape), sumTo(g, y.shape)]);
}

export function sub(a: TensorLike, b: TensorLike): Tensor {
  const [x, y] = operands(a, b);
  return record(binaryRaw('sub', x, y), [x, y], 'sub', (g) => [sumTo(g, x.shape), sumTo(neg(g), y.shape)]);
}

export function mul(a: TensorLike, b: TensorLike): Tensor {
  const [x, y] = operands(a, b);
  return record(binaryRaw('mul', x, y), [x, y], 'mul', (g) => [
    x.requiresGrad ? sumTo(mul(g, y), x.shape) : null,
    y.requiresGrad ? sumTo(mul(g, x), y.shape) : null,
  ]);
}

export function div(a: TensorLike, b: TensorLike): Tensor {
  const [x, y] = operands(a, b);
  const out = binaryRaw('div', x, y);
  return record(out, [x, y], 'div', (g) => [
    x.requiresGrad ? sumTo(div(g, y), x.shape) : null,
    y.requiresGrad ? sumTo(neg(div(mul(g, out), y)), y.shape) : null,
  ]);
}

const compare = (op: BinaryOp) => (a: TensorLike, b: TensorLike): Tensor => binaryRaw(op, ...operands(a, b));
/** Comparisons give 0/1 floats and carry no gradient. */
export const lt = compare('lt');
export const le = compare('le');
export const gt = compare('gt');
export const ge = compare('ge');
export const eq = compare('eq');
export const ne = compare('ne');

export function neg(x: Tensor): Tensor {
  return record(unaryRaw('neg', x), [x], 'neg', (g) => [neg(g)]);
}

export function exp(x: Tensor): Tensor {
  const y = unaryRaw('exp', x);
  return record(y, [x], 'exp', (g) => [mul(g, y)]);
}

export function log(x: Tensor): Tensor {
  return record(unaryRaw('log', x), [x], 'log', (g) => [div(g, x)]);
}

export function sqrt(x: Tensor): Tensor {
  const y = unaryRaw('sqrt', x);
  return record(y, [x], 'sqrt', (g) => [div(g, mul(y, 2))]);
}

export function square(x: Tensor): Tensor {
  return record(unaryRaw('square', x), [x], 'square', (g) => [mul(g, mul(x, 2))]);
}

export function abs(x: Tensor): Tensor {
  return record(unaryRaw('abs', x), [x], 'abs', (g) => [mul(g, unaryRaw('sign', x))]);
}

export function tanh(x: Tensor): Tensor {
  const y = unaryRaw('tanh', x);
  return record(y, [x], 'tanh', (g) => [mul(g, unaryRaw('affine', unaryRaw('square', y), -1, 1))]);
}

export function sigmoid(x: Tensor): Tensor {
  const y = unaryRaw('sigmoid', x);
  return record(y, [x], 'sigmoid', (g) => [mul(g, mul(y, unaryRaw('affine', y, -1, 1)))]);
}

export function relu(x: Tensor): Tensor {
  return record(unaryRaw('relu', x), [x], 'relu', (g) => [mul(g, unaryRaw('step', x))]);
}

/** Clamps to [min, max]; the gradient passes where min ≤ x ≤ max, as in PyTorch. */
export function clamp(x: Tensor, min = -Infinity, max = Infinity): Tensor {
  return record(unaryRaw('clamp', x, min, max), [x], 'clamp', (g) => [mul(g, unaryRaw('inRange', x, min, max))]);
}

export function pow(x: Tensor, exponent: number): Tensor {
  return record(unaryRaw('pow', x, exponent), [x], 'pow', (g) => [
    exponent === 0 ? full(x.shape, 0, x.backend) : mul(g, mul(unaryRaw('pow', x, exponent - 1), exponent)),
  ]);
}

/** cond ? a : b elementwise (cond nonzero is true), broadcasting all three. */
export function where(cond: Tensor, a: TensorLike, b: TensorLike): Tensor {
  const [x, y] = operands(a, b);
  const shape = broadcastShapes(broadcastShapes(cond.shape, x.shape), y.shape);
  const out = empty(shape, cond.backend);
  cond.backend.where(cond.buf, broadcastStrides(cond.shape, shape), x.buf, broadcastStrides(x.shape, shape),
                     y.buf, broadcastStrides(y.shape, shape), out.buf, shape);
  return record(out, [x, y], 'where', (g) => [
    x.requiresGrad ? sumTo(where(cond, g, 0), x.shape) : null,
    y.requiresGrad ? sumTo(where(cond, 0, g), y.shape) : null,
  ]);
}

/** A copy of x's values, outside the tape. */
export function detach(x: Tensor): Tensor {
  return unaryRaw('affine', x, 1, 0);
}
