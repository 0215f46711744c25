// PyTorch's default initialisation of convolution layers, drawn from a seeded voxgrad Generator.
import type { Generator } from '../engine/random.ts';
import { rand } from '../engine/ops/create.ts';
import type { Tensor } from '../engine/tensor.ts';

/**
 * fan_in as torch.nn.init._calculate_fan_in_and_fan_out computes it: dimension 1 times the kernel
 * volume. For a ConvTranspose weight [Cin, Cout, k…] dimension 1 is Cout, and PyTorch uses it as is.
 */
export function fanIn(weightShape: readonly number[]): number {
  return weightShape.slice(1).reduce((a, b) => a * b, 1);
}

/** U(−bound, bound). */
export function uniform(shape: readonly number[], bound: number, generator: Generator): Tensor {
  return rand(shape, generator, -bound, bound);
}

/**
 * The weight and bias of a fresh nn.Conv3d / nn.ConvTranspose3d: kaiming_uniform_(a=√5) for the
 * weight, whose bound gain·√(3/fan_in) with gain = √(2/(1+a²)) reduces to 1/√fan_in, and
 * U(±1/√fan_in) for the bias.
 */
export function convInit(weightShape: readonly number[], biasSize: number | null, generator: Generator) {
  const bound = 1 / Math.sqrt(fanIn(weightShape));
  const weight = uniform(weightShape, bound, generator);
  const bias = biasSize === null ? null : uniform([biasSize], bound, generator);
  return { weight, bias };
}
