// nn.Sequential: children named "0", "1", … so that their parameter names match PyTorch's.
import type { Tensor } from '../engine/tensor.ts';
import { Module } from './module.ts';

/** A module whose forward maps one tensor to one tensor. */
export interface Layer extends Module {
  forward(x: Tensor): Tensor;
}

export class Sequential extends Module {
  readonly layers: readonly Layer[];

  constructor(...layers: Layer[]) {
    super();
    this.layers = layers;
    layers.forEach((m, i) => this.registerModule(String(i), m));
  }

  forward(x: Tensor): Tensor {
    return this.layers.reduce((h, m) => m.forward(h), x);
  }
}
