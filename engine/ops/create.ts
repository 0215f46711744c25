// Tensor creation. Random values come from an explicit, seeded Generator on the host.
import { Generator } from '../random.ts';
import { empty, Tensor } from '../tensor.ts';
import { getBackend } from '../registry.ts';
import type { Backend } from '../backend.ts';
import { sizeOf } from '../shape-arithmetic.ts';

/** A tensor from values in row-major order; shape defaults to [values.length]. */
export function tensor(values: ArrayLike<number> | number, shape?: readonly number[], backend?: Backend): Tensor {
  const data = typeof values === 'number' ? Float32Array.of(values) : Float32Array.from(values);
  const s = shape ?? (typeof values === 'number' ? [] : [data.length]);
  if (sizeOf(s) !== data.length) {
    throw new Error(`voxgrad: ${data.length} values do not fill shape [${s}] (${sizeOf(s)} elements)`);
  }
  const t = empty(s, backend ?? getBackend());
  t.backend.write(t.buf, data);
  return t;
}

export function full(shape: readonly number[], value: number, backend: Backend = getBackend()): Tensor {
  const t = empty(shape, backend);
  backend.fill(t.buf, value);
  return t;
}

export const zeros = (shape: readonly number[], backend?: Backend) => full(shape, 0, backend);
export const ones = (shape: readonly number[], backend?: Backend) => full(shape, 1, backend);
export const zerosLike = (t: Tensor) => full(t.shape, 0, t.backend);
export const onesLike = (t: Tensor) => full(t.shape, 1, t.backend);

/** Uniform on [low, high). */
export function rand(shape: readonly number[], generator: Generator, low = 0, high = 1): Tensor {
  const data = new Float32Array(sizeOf(shape));
  for (let i = 0; i < data.length; i++) data[i] = low + (high - low) * generator.uniform();
  return tensor(data, shape);
}

export function randn(shape: readonly number[], generator: Generator, mean = 0, std = 1): Tensor {
  const data = new Float32Array(sizeOf(shape));
  for (let i = 0; i < data.length; i++) data[i] = mean + std * generator.normal();
  return tensor(data, shape);
}

/** 0, 1, …, n−1 as floats. */
export function arange(n: number, backend?: Backend): Tensor {
  return tensor(Float32Array.from({ length: n }, (_, i) => i), [n], backend);
}
