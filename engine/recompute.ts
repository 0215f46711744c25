// Activation checkpointing: a segment of the forward runs without a tape, so that none of its
// intermediates outlive it, and runs again with a tape inside backward, on the same inputs, when its
// gradient is needed. The replay computes the same values with the same kernels, so every gradient is
// bitwise the one the kept activations would give; normalisations see isReplaying() and leave their
// running statistics alone the second time.
import { isGradEnabled, noGrad, record, withGrad } from './autograd.ts';
import { backward } from './backward.ts';
import { scope } from './memory.ts';
import { state } from './state.ts';
import { shareStorage, type Tensor } from './tensor.ts';

/**
 * fn(...inputs), which reads `params` besides its inputs and must compute the same values when run
 * twice (no random draws inside), keeping only its inputs and its output for backward.
 */
export function checkpoint(fn: (...xs: Tensor[]) => Tensor, inputs: Tensor[], params: Tensor[]): Tensor {
  const all = [...inputs, ...params];
  if (!isGradEnabled() || !all.some((t) => t.requiresGrad)) return fn(...inputs);
  const out = noGrad(() => scope(() => fn(...inputs)));
  return record(out, all, 'checkpoint', (g) => {
    state.replayDepth++;
    try {
      const xs = inputs.map((t) => {
        const x = shareStorage(t, t.shape);
        x.requiresGrad = t.requiresGrad;
        return x;
      });
      const sources = [...xs, ...params];
      const capture = new Map<Tensor, Tensor | null>(sources.filter((t) => t.requiresGrad).map((t) => [t, null]));
      const y = withGrad(() => fn(...xs));
      backward(y, g, capture);
      return sources.map((t) => capture.get(t) ?? null);
    } finally {
      state.replayDepth--;
    }
  });
}
