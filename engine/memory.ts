// Deterministic memory management: every tensor created inside `scope(fn)` is disposed when fn
// returns, except the tensors it returns and those passed to `keep`.
import type { Tensor } from './tensor.ts';

const stack: Set<Tensor>[] = [];

export function track(t: Tensor) {
  stack[stack.length - 1]?.add(t);
}

/** Takes t out of every open scope, so that it outlives them. */
export function keep<T extends Tensor>(t: T): T {
  for (const s of stack) s.delete(t);
  return t;
}

function collect(value: unknown, into: Set<unknown>, seen = new Set<unknown>()) {
  if (value === null || typeof value !== 'object' || seen.has(value)) return;
  seen.add(value);
  if ('shape' in value && 'requiresGrad' in value) {
    into.add(value);
    return;
  }
  if (Array.isArray(value)) for (const v of value) collect(v, into, seen);
  else if (Object.getPrototypeOf(value) === Object.prototype) for (const v of Object.values(value)) collect(v, into, seen);
}

export function scope<T>(fn: () => T): T {
  const mine = new Set<Tensor>();
  stack.push(mine);
  let result: T | undefined;
  try {
    result = fn();
    if (result instanceof Promise) {
      throw new Error('voxgrad: scope() takes a synchronous function (tensors would be freed before it resolves)');
    }
    return result;
  } finally {
    stack.pop();
    const returned = new Set<unknown>();
    collect(result, returned);
    const parent = stack[stack.length - 1];
    for (const t of mine) {
      if (returned.has(t)) parent?.add(t);
      else t.dispose();
    }
  }
}
