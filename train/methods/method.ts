// What the training loop knows of a method: which networks and batch parts it needs, and its loss
// for one batch at iteration t. Everything method-specific lives behind this interface.
import type { Tensor } from '../../engine/tensor.ts';
import type { VNet } from '../../nn/vnet.ts';
import type { Draws } from '../draws.ts';

export type MethodName = 'supervised' | 'mt' | 'uamt' | 'dtc' | 'ugmcl';
export const METHOD_NAMES: readonly MethodName[] = ['supervised', 'mt', 'uamt', 'dtc', 'ugmcl'];

export interface TrainBatch {
  /** [B, 1, D, H, W], the labelled samples first. */
  image: Tensor;
  /** [nLabeled, D, H, W] 0/1 labels of the labelled samples. */
  label: Tensor;
  /** [nLabeled, D, H, W] normalised signed distance maps of the labels (methods with `sdf`). */
  sdf?: Tensor;
  nLabeled: number;
}

export interface StepContext {
  t: number;
  student: VNet;
  /** The EMA teacher, for methods with `teacher`. */
  teacher: VNet | null;
  draws: Draws;
}

export interface StepLoss {
  /** The scalar to minimise. */
  loss: Tensor;
  /** Every term by its paper name (scalars), logged each iteration. */
  terms: Record<string, Tensor>;
}

export interface Method {
  readonly name: MethodName;
  readonly teacher: boolean;
  /** Whether batches carry unlabelled samples after the labelled ones. */
  readonly unlabeled: boolean;
  readonly sdf: boolean;
  loss(ctx: StepContext, batch: TrainBatch): StepLoss;
  /** The schedules' values at t, for the log (λ, the entropy threshold, …). */
  schedule(t: number): Record<string, number>;
}
