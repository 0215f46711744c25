// What a forward does with an activation once the next layer has read it. Without a tape nothing but
// the forward holds it, so it is freed at once (the teacher's passes, inference) instead of keeping a
// whole network's activations until the scope ends. With a tape the graph keeps what backward needs;
// an activation it can recompute from tensors it keeps anyway (a normalisation's output, from the
// convolution output it saves) gives its buffer back until backward reads it again.
import { isGradEnabled } from '../engine/autograd.ts';
import type { Tensor } from '../engine/tensor.ts';

/** Called when `used` has no reader left in this forward; `result` and the forward's `input` stay. */
export function afterLastUse(used: Tensor, result: Tensor, input: Tensor) {
  if (used === result || used === input) return;
  if (isGradEnabled()) used.drop();
  else used.dispose();
}
