// L_seg = L_ce + L_dice on the labelled part of the batch, shared by every method.
import { crossEntropy } from '../../engine/ops/loss.ts';
import { reshape, slice } from '../../engine/ops/shape.ts';
import type { Tensor } from '../../engine/tensor.ts';
import { diceLoss } from '../losses.ts';

/** The foreground channel [N, 1, D, H, W] of class probabilities or SDM outputs [N, 2, …]. */
export function foreground(t: Tensor): Tensor {
  return slice(t, [null, [1, 2]]);
}

/** Labels [N, D, H, W] as [N, 1, D, H, W], to meet a foreground channel. */
export function asChannel(label: Tensor): Tensor {
  return reshape(label, [label.shape[0], 1, ...label.shape.slice(1)]);
}

/** CE of the labelled logits and Dice of their foreground probability, as the reference repos. */
export function segmentationTerms(z: Tensor, p: Tensor, label: Tensor, nLabeled: number): { ce: Tensor; dice: Tensor } {
  const zL = slice(z, [[0, nLabeled]]);
  const pL = slice(p, [[0, nLabeled]]);
  return { ce: crossEntropy(zL, label), dice: diceLoss(foreground(pL), asChannel(label)) };
}
