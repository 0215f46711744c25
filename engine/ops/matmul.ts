// 2-D matrix product and its gradient.
import { record } from '../autograd.ts';
import { empty, Tensor } from '../tensor.ts';

function matmulRaw(a: Tensor, b: Tensor, transA: boolean, transB: boolean): Tensor {
  const [m, k] = transA ? [a.shape[1], a.shape[0]] : [a.shape[0], a.shape[1]];
  const [k2, n] = transB ? [b.shape[1], b.shape[0]] : [b.shape[0], b.shape[1]];
  if (k !== k2) throw new Error(`voxgrad: matmul of [${a.shape}] and [${b.shape}]: inner sizes differ`);
  const out = empty([m, n], a.backend);
  a.backend.matmul(a.buf, b.buf, out.buf, 1, m, k, n, transA, transB);
  return out;
}

export function matmul(a: Tensor, b: Tensor): Tensor {
  if (a.rank !== 2 || b.rank !== 2) throw new Error(`voxgrad: matmul needs 2-D tensors, got [${a.shape}] and [${b.shape}]`);
  return record(matmulRaw(a, b, false, false), [a, b], 'matmul', (g) => [
    a.requiresGrad ? matmulRaw(g, b, false, true) : null,
    b.requiresGrad ? matmulRaw(a, g, true, false) : null,
  ]);
}
