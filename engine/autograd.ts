// Reverse-mode autograd's tape: each op records, on its output, the inputs and a backward function
// written with other ops. Running the tape backwards is backward.ts's, which lies above the ops.
import type { BackendBuffer } from './backend.ts';
import { state } from './state.ts';
import type { Tensor } from './tensor.ts';

export function isGradEnabled() {
  return state.noGradDepth === 0;
}

/** True while a checkpointed segment runs for the second time (recompute.ts). */
export function isReplaying(): boolean {
  return state.replayDepth > 0;
}

/** Runs fn without recording anything on the tape. */
export function noGrad<T>(fn: () => T): T {
  state.noGradDepth++;
  try {
    return fn();
  } finally {
    state.noGradDepth--;
  }
}

/** Runs fn recording on the tape even inside noGrad (a checkpoint's replay within backward). */
export function withGrad<T>(fn: () => T): T {
  const saved = state.noGradDepth;
  state.noGradDepth = 0;
  try {
    return fn();
  } finally {
    state.noGradDepth = saved;
  }
}

/** Attaches a node to `out` when recording and some input requires a gradient. */
export function record(out: Tensor, inputs: Tensor[], name: string, backwardFn: (gy: Tensor) => (Tensor | null)[]): Tensor {
  if (state.noGradDepth === 0 && inputs.some((t) => t.requiresGrad)) {
    out.requiresGrad = true;
    out.node = { name, inputs, backward: backwardFn };
  }
  return out;
}

/**
 * Lets `out` give its buffer back (Tensor.drop) while a graph is recorded through `inputs`, which the
 * graph keeps; `compute` writes the same values again when backward reads it.
 */
export function allowRecompute(out: Tensor, inputs: Tensor[], compute: (buf: BackendBuffer) => void) {
  if (state.activationRecompute && state.noGradDepth === 0 && inputs.some((t) => t.requiresGrad)) out.recomputeWith(compute);
}
