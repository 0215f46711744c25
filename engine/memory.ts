// Deterministic memory management: every tensor created inside `scope(fn)` is disposed when fn
// returns, except the tensors it returns and those passed to `keep`.
import { state } from './state.ts';
import type { Tensor } from './tensor.ts';

/** Called after every tensor's creation (the memory census watches the peak with it); null stops it. */
export function setTrackHook(hook: (() => void) | null) {
  state.onTensorCreated = hook;
}

/** Every tensor an open scope will dispose of, innermost scope last. */
export function scopedTensors(): Tensor[] {
  return state.scopes.flatMap((s) => [...s]);
}

/** Takes t out of every open scope, so that it outlives them. */
export function keep<T extends Tensor>(t: T): T {
  for (const s of state.scopes) s.delete(t);
  t.settle();
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
  const stack = state.scopes;
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
    // a returned tensor that could be recomputed keeps its buffer: the tensors its recipe reads go now
    for (const t of mine) if (returned.has(t)) t.settle();
    for (const t of mine) {
      if (returned.has(t)) parent?.add(t);
      else t.dispose();
    }
  }
}

/**
 * Whether the activations a graph can recompute (normalisation outputs, from the convolution outputs
 * it keeps) give their buffers back between forward and backward: less memory for one extra pass over
 * each in backward, with identical results. On by default.
 */
export function setActivationRecompute(on: boolean) {
  state.activationRecompute = on;
}
