// The backend's elementwise and reduction kernels applied to tensors, recording nothing on the tape:
// the ops that record (elementwise.ts, broadcast.ts, reduce.ts) are built on them.
import type { BackendBuffer, BinaryOp, ReduceOp, UnaryOp } from '../backend.ts';
import { allowRecompute, noGrad } from '../autograd.ts';
import { empty, Tensor } from '../tensor.ts';
import { broadcastShapes, broadcastStrides, sizeOf } from '../shape-arithmetic.ts';
import { tensor } from './create.ts';
import { reshape } from './shape.ts';

export type TensorLike = Tensor | number;

export function unaryRaw(op: UnaryOp, x: Tensor, a = 0, b = 0): Tensor {
  const out = empty(x.shape, x.backend);
  const compute = (buf: BackendBuffer) => x.backend.unary(op, x.buf, buf, a, b);
  compute(out.buf);
  allowRecompute(out, [x], compute);
  return out;
}

function lift(v: TensorLike, like: Tensor): Tensor {
  return typeof v === 'number' ? tensor(v, [], like.backend) : v;
}

export function binaryRaw(op: BinaryOp, a: Tensor, b: Tensor): Tensor {
  if (a.backend !== b.backend) {
    throw new Error(`voxgrad: ${op} of tensors on backends '${a.backend.name}' and '${b.backend.name}'`);
  }
  const shape = broadcastShapes(a.shape, b.shape);
  const out = empty(shape, a.backend);
  const compute = (buf: BackendBuffer) =>
    a.backend.binary(op, a.buf, broadcastStrides(a.shape, shape), b.buf, broadcastStrides(b.shape, shape), buf, shape);
  compute(out.buf);
  allowRecompute(out, [a, b], compute);
  return out;
}

/** Both operands as tensors, a number lifted to a scalar on the other's backend. */
export function operands(a: TensorLike, b: TensorLike): [Tensor, Tensor] {
  if (typeof a === 'number' && typeof b === 'number') throw new Error('voxgrad: an op needs at least one tensor');
  const ta = typeof a === 'number' ? lift(a, b as Tensor) : a;
  return [ta, lift(b, ta)];
}

/** Runs of consecutive axes, last run first (reducing it leaves earlier offsets valid). */
function axisRuns(axes: number[]): [number, number][] {
  const runs: [number, number][] = [];
  for (const a of axes) {
    const last = runs[runs.length - 1];
    if (last && last[1] === a) last[1] = a + 1;
    else runs.push([a, a + 1]);
  }
  return runs.reverse();
}

/** Reduces x over any set of axes (kept as size 1) with the backend's single-range reduce. */
export function reduceRaw(op: ReduceOp | 'argmax', x: Tensor, axes: number[]): Tensor {
  let cur = x;
  let shape = x.shape.slice();
  for (const [start, end] of axisRuns(axes)) {
    const outer = sizeOf(shape.slice(0, start)), r = sizeOf(shape.slice(start, end)), inner = sizeOf(shape.slice(end));
    shape = shape.map((d, i) => (i >= start && i < end ? 1 : d));
    const out = empty(shape, x.backend);
    if (op === 'argmax') x.backend.argmax(cur.buf, out.buf, outer, r, inner);
    else x.backend.reduce(op, cur.buf, out.buf, outer, r, inner);
    if (cur !== x) cur.dispose();
    cur = out;
  }
  return cur === x ? reshape(noGrad(() => binaryRaw('mul', ...operands(x, 1))), shape) : cur;
}
