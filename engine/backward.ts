// The backward pass: runs the tape (autograd.ts) from a result to its leaves, adding gradients up with
// the ops. Tensor.backward() is defined here because tensor.ts lies below the ops and cannot import it.
import { noGrad } from './autograd.ts';
import { keep, scope } from './memory.ts';
import { add, onesLike, zerosLike } from './ops/elementwise.ts';
import { dropRematerialized, shareStorage, Tensor } from './tensor.ts';

declare module './tensor.ts' {
  interface Tensor {
    /** Fills `.grad` of every leaf that requires a gradient (accumulating, as PyTorch does). */
    backward(seed?: Tensor): void;
  }
}

Tensor.prototype.backward = function (this: Tensor, seed?: Tensor) {
  backward(this, seed);
};

/** Tensors reachable from root that need a gradient, in reverse topological order. */
function reverseTopo(root: Tensor): Tensor[] {
  const order: Tensor[] = [];
  const seen = new Set<Tensor>();
  const stack: [Tensor, number][] = [[root, 0]];
  seen.add(root);
  while (stack.length) {
    const top = stack[stack.length - 1];
    const [t, i] = top;
    const inputs = t.node?.inputs ?? [];
    if (i < inputs.length) {
      top[1]++;
      const next = inputs[i];
      if (next.requiresGrad && !seen.has(next)) {
        seen.add(next);
        stack.push([next, 0]);
      }
    } else {
      stack.pop();
      order.push(t);
    }
  }
  return order.reverse();
}

/**
 * Propagates seed (default ones) from root. Leaves accumulate into `.grad`, or, when `capture` is
 * given, into that map instead (then `.grad` is left alone).
 */
export function backward(root: Tensor, seed?: Tensor, capture?: Map<Tensor, Tensor | null>) {
  if (!root.requiresGrad) throw new Error('voxgrad: backward() on a tensor that does not require grad');
  // Every tensor held in `pending` is owned here and appears there once; a backward function may
  // return its incoming gradient, or one tensor for several inputs, so ownership is settled per node.
  const pending = new Map<Tensor, Tensor>();
  noGrad(() => {
    pending.set(root, keep(seed ? add(seed, 0) : onesLike(root)));
    for (const t of reverseTopo(root)) {
      const g = pending.get(t);
      if (!g) continue;
      pending.delete(t);
      if (!t.node) {
        if (!capture) accumulateInto(t, g);
        else if (capture.has(t)) capture.set(t, sumOwned(capture.get(t) ?? null, g));
        else g.dispose();
        continue;
      }
      const node = t.node;
      const grads = scope(() => node.backward(g));
      // every reader of t ran its backward before t's: a recomputable t need not hold its buffer now
      t.drop();
      dropRematerialized();
      const held = new Set(pending.values());
      const free = new Set<Tensor>([g]);
      grads.forEach((gi, k) => {
        if (!gi) return;
        keep(gi);
        free.add(gi);
        const input = node.inputs[k];
        if (!input.requiresGrad) return;
        const prev = pending.get(input);
        const next = prev ? keep(add(prev, gi)) : held.has(gi) ? keep(add(gi, 0)) : gi;
        if (prev) {
          held.delete(prev);
          free.add(prev);
        }
        pending.set(input, next);
        held.add(next);
      });
      for (const f of free) if (!held.has(f)) f.dispose();
    }
  });
}

/** prev + g, consuming both (prev may be null). */
function sumOwned(prev: Tensor | null, g: Tensor): Tensor {
  if (!prev) return g;
  const total = keep(add(prev, g));
  prev.dispose();
  g.dispose();
  return total;
}

function accumulateInto(leaf: Tensor, g: Tensor) {
  leaf.grad = sumOwned(leaf.grad, g);
}

/**
 * Gradients of fn (a scalar-valued function) with respect to each input, without touching `.grad`.
 * Inputs that fn does not reach get zeros.
 */
export function grad(fn: (...xs: Tensor[]) => Tensor, inputs: Tensor[]): Tensor[] {
  const leaves = inputs.map((x) => detachLeaf(x));
  const capture = new Map<Tensor, Tensor | null>(leaves.map((l) => [l, null]));
  scope(() => {
    const out = fn(...leaves);
    if (out.size !== 1) throw new Error(`voxgrad: grad() needs a scalar function, got shape [${out.shape}]`);
    if (out.requiresGrad) backward(out, undefined, capture);
  });
  return leaves.map((l, i) => {
    l.dispose();
    return capture.get(l) ?? zerosLike(inputs[i]);
  });
}

/** Gradients of a scalar function and its value, in one pass. */
export function valueAndGrad(fn: (...xs: Tensor[]) => Tensor, inputs: Tensor[]): [Tensor, Tensor[]] {
  let value: Tensor | null = null;
  const grads = grad((...xs) => {
    const out = fn(...xs);
    value = keep(noGrad(() => add(out, 0)));
    return out;
  }, inputs);
  return [value!, grads];
}

function detachLeaf(x: Tensor): Tensor {
  const leaf = shareStorage(x, x.shape);
  leaf.requiresGrad = true;
  return leaf;
}
