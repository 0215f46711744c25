// torch.optim.SGD with momentum and weight decay, dampening 0, not Nesterov — PyTorch's exact
// order of operations: d = g + wd·θ; b = d on the first step, else μ·b + d; θ ← θ − lr·b. The
// learning rate is given per step, so a schedule stays a pure function of the iteration.
import { noGrad } from '../../engine/autograd.ts';
import { keep, scope } from '../../engine/memory.ts';
import { add, mul, sub } from '../../engine/ops/elementwise.ts';
import type { Tensor } from '../../engine/tensor.ts';
import type { HostTensor } from '../../nn/module.ts';
import { tensor } from '../../engine/ops/create.ts';

export interface SgdOptions {
  momentum: number;
  weightDecay: number;
}

export class Sgd {
  /** Momentum buffers by parameter name; a parameter gets one at its first step with a gradient. */
  readonly momentum = new Map<string, Tensor>();

  constructor(private readonly params: [string, Tensor][], readonly opts: SgdOptions) {}

  /** One step over every parameter that has a gradient (PyTorch skips those whose grad is None). */
  step(lr: number) {
    const { momentum: mu, weightDecay: wd } = this.opts;
    noGrad(() => scope(() => {
      for (const [name, p] of this.params) {
        if (!p.grad) continue;
        const d = wd !== 0 ? add(p.grad, mul(p, wd)) : p.grad;
        let step = d;
        if (mu !== 0) {
          const prev = this.momentum.get(name);
          const buf = keep(prev ? add(mul(prev, mu), d) : add(d, 0));
          prev?.dispose();
          this.momentum.set(name, buf);
          step = buf;
        }
        p.assign(sub(p, mul(step, lr)));
      }
    }));
  }

  /** Restores the buffers saved in a checkpoint; names not among the parameters are an error. */
  load(buffers: Map<string, HostTensor>, source: string) {
    const byName = new Map(this.params);
    for (const [name, host] of buffers) {
      const p = byName.get(name);
      if (!p) throw new Error(`voxgrad: ${source}: momentum for unknown parameter '${name}'`);
      if (host.shape.join() !== p.shape.join()) {
        throw new Error(`voxgrad: ${source}: momentum '${name}' has shape [${host.shape}], the parameter [${p.shape}]`);
      }
      this.momentum.get(name)?.dispose();
      this.momentum.set(name, keep(tensor(host.data, host.shape, p.backend)));
    }
  }

  dispose() {
    for (const b of this.momentum.values()) b.dispose();
    this.momentum.clear();
  }
}
