// nn.ReLU as a layer, so that Sequential indices (and so parameter names) line up with PyTorch's.
import { relu } from '../engine/ops/elementwise.ts';
import type { Tensor } from '../engine/tensor.ts';
import { Module } from './module.ts';

export class ReLU extends Module {
  forward(x: Tensor): Tensor {
    return relu(x);
  }
}
