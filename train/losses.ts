// The loss terms of the semi-supervised recipes (docs/method.md §2–§4), each named for its role in
// the papers' equations. Tensors are [N, C, D, H, W] unless noted; labels are 0/1 floats.
import { noGrad } from '../engine/autograd.ts';
import { add, div, log, mul, neg, sigmoid, square, sub } from '../engine/ops/elementwise.ts';
import { mean, sum } from '../engine/ops/reduce.ts';
import type { Tensor } from '../engine/tensor.ts';

/** The reference repos' soft Dice loss, 1 − (2Σp·g + 1e-5)/(Σp² + Σg² + 1e-5), over the whole batch. */
export function diceLoss(p: Tensor, g: Tensor): Tensor {
  const smooth = 1e-5;
  const intersect = sum(mul(p, g));
  const denom = add(add(sum(square(p)), sum(square(g))), smooth);
  return sub(1, div(add(mul(intersect, 2), smooth), denom));
}

/** T⁻¹(d) = σ(−k·d): the SDM head turned back into a soft mask (k = 1500, the code's sign). */
export function sdmToMask(d: Tensor, k = 1500): Tensor {
  return sigmoid(mul(d, -k));
}

/**
 * The masked consistency of the paper's Eq. 4: Σ_v m_v·‖a_v − b_v‖² / (Σ_v m_v + 1e-16), the
 * squared norm taken over channels; `mask` is [N, 1, D, H, W], b the (detached) teacher output.
 */
export function maskedConsistency(a: Tensor, b: Tensor, mask: Tensor): Tensor {
  return div(sum(mul(mask, square(sub(a, b)))), add(sum(mask), 1e-16));
}

/** Eq. 6: L_ctc = mean (f_seg − T⁻¹(f_dis))², both sides differentiable. */
export function crossTaskConsistency(p: Tensor, d: Tensor): Tensor {
  return mean(square(sub(sdmToMask(d), p)));
}

/** Eq. 3: predictive entropy u = −Σ_c p̄_c·ln(p̄_c + 1e-6) of mean probabilities, [N, 1, D, H, W]. */
export function predictiveEntropy(pMean: Tensor): Tensor {
  return noGrad(() => neg(sum(mul(pMean, log(add(pMean, 1e-6))), 1, true)));
}
