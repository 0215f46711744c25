// Everything the engine changes as it runs, in one place: the ops read it to know where new tensors
// live, whether to record them on the tape and which scope owns them; the modules that change it
// (registry, autograd, memory, recompute, tensor) are the only ones that write it.
import type { Backend } from './backend.ts';
import type { Tensor } from './tensor.ts';

export const state = {
  /** The backend new tensors live on; null until one is chosen or first needed. */
  backend: null as Backend | null,
  /** Open noGrad() calls: nothing is recorded while there is one (withGrad sets it aside). */
  noGradDepth: 0,
  /** Checkpointed segments running for the second time, inside backward. */
  replayDepth: 0,
  /** Open scopes, innermost last, each holding the tensors it will dispose of. */
  scopes: [] as Set<Tensor>[],
  /** Called after every tensor's creation (the memory census watches the peak with it). */
  onTensorCreated: null as (() => void) | null,
  /** Whether recomputable activations give their buffers back between forward and backward. */
  activationRecompute: true,
  /** Tensors whose dropped buffers a read has brought back, to be dropped again after the node. */
  rematerialized: [] as Tensor[],
};
