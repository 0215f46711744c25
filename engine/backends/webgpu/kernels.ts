// Numbering of the ops selected by the OP override constant in unary.wgsl, binary.wgsl and the reduce
// kernels; the order here is the order of the `case`s there.
import type { BinaryOp, ReduceOp, UnaryOp } from '../../backend.ts';

const UNARY: UnaryOp[] = ['neg', 'exp', 'log', 'sqrt', 'abs', 'tanh', 'sigmoid', 'relu', 'square', 'sign', 'step',
  'pow', 'clamp', 'inRange', 'affine'];
const BINARY: BinaryOp[] = ['add', 'sub', 'mul', 'div', 'lt', 'le', 'gt', 'ge', 'eq', 'ne'];
const REDUCE: (ReduceOp | 'argmax')[] = ['sum', 'max', 'argmax'];

export const unaryCode = (op: UnaryOp) => UNARY.indexOf(op);
export const binaryCode = (op: BinaryOp) => BINARY.indexOf(op);
export const reduceCode = (op: ReduceOp | 'argmax') => REDUCE.indexOf(op);
