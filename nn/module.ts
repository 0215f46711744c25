// The base of every layer: named parameters, buffers and child modules, kept in registration order
// so that state-dict names and their order match PyTorch's (own parameters, own buffers, children).
import { keep, scope } from '../engine/memory.ts';
import { noGrad } from '../engine/autograd.ts';
import { tensor } from '../engine/ops/create.ts';
import { add } from '../engine/ops/elementwise.ts';
import { Tensor } from '../engine/tensor.ts';

/** How a state-dict entry is stored in a checkpoint; int64 is PyTorch's type for counters. */
export type StateDType = 'F32' | 'I64';

export interface StateEntry {
  tensor: Tensor;
  dtype: StateDType;
  kind: 'parameter' | 'buffer';
}

/** Host values for one state-dict entry, as read from a checkpoint. */
export interface HostTensor {
  shape: number[];
  data: Float32Array;
}

export class Module {
  training = true;
  private readonly params = new Map<string, Tensor>();
  private readonly buffers = new Map<string, { tensor: Tensor; dtype: StateDType }>();
  private readonly children = new Map<string, Module>();

  protected registerParameter(name: string, t: Tensor): Tensor {
    this.checkFree(name);
    t.requiresGrad = true;
    this.params.set(name, keep(t));
    return t;
  }

  protected registerBuffer(name: string, t: Tensor, dtype: StateDType = 'F32'): Tensor {
    this.checkFree(name);
    this.buffers.set(name, { tensor: keep(t), dtype });
    return t;
  }

  protected registerModule<M extends Module>(name: string, m: M): M {
    this.checkFree(name);
    this.children.set(name, m);
    return m;
  }

  private checkFree(name: string) {
    if (!name || /[./]/.test(name)) throw new Error(`voxgrad: bad module member name '${name}'`);
    if (this.params.has(name) || this.buffers.has(name) || this.children.has(name)) {
      throw new Error(`voxgrad: '${name}' registered twice on ${this.constructor.name}`);
    }
  }

  /** Every parameter and buffer under its dotted PyTorch name, in PyTorch's state_dict order. */
  stateEntries(prefix = ''): Map<string, StateEntry> {
    const out = new Map<string, StateEntry>();
    for (const [n, t] of this.params) out.set(prefix + n, { tensor: t, dtype: 'F32', kind: 'parameter' });
    for (const [n, b] of this.buffers) out.set(prefix + n, { tensor: b.tensor, dtype: b.dtype, kind: 'buffer' });
    for (const [n, m] of this.children) for (const [k, e] of m.stateEntries(`${prefix}${n}.`)) out.set(k, e);
    return out;
  }

  stateDict(): Map<string, Tensor> {
    return new Map([...this.stateEntries()].map(([k, e]) => [k, e.tensor]));
  }

  namedParameters(): [string, Tensor][] {
    return [...this.stateEntries()].filter(([, e]) => e.kind === 'parameter').map(([k, e]) => [k, e.tensor]);
  }

  parameters(): Tensor[] {
    return this.namedParameters().map(([, t]) => t);
  }

  namedBuffers(): [string, Tensor][] {
    return [...this.stateEntries()].filter(([, e]) => e.kind === 'buffer').map(([k, e]) => [k, e.tensor]);
  }

  numParameters(): number {
    return this.parameters().reduce((n, p) => n + p.size, 0);
  }

  /** Overwrites every entry from `values`; any missing or extra name or a shape mismatch is an error. */
  loadStateDict(values: Map<string, Tensor | HostTensor>, source = 'state dict') {
    const entries = this.stateEntries();
    const missing = [...entries.keys()].filter((k) => !values.has(k));
    const extra = [...values.keys()].filter((k) => !entries.has(k));
    if (missing.length || extra.length) {
      const list = (what: string, names: string[]) => (names.length ? ` ${what}: ${names.join(', ')}.` : '');
      throw new Error(`voxgrad: ${source} does not match ${this.constructor.name}.` +
                      `${list('missing', missing)}${list('unexpected', extra)}`);
    }
    for (const [name, e] of entries) {
      const v = values.get(name)!;
      if (v.shape.join() !== e.tensor.shape.join()) {
        throw new Error(`voxgrad: ${source}: '${name}' has shape [${v.shape}], the module expects [${e.tensor.shape}]`);
      }
      if (v instanceof Tensor && v.backend !== e.tensor.backend) {
        throw new Error(`voxgrad: ${source}: '${name}' is on backend '${v.backend.name}', the module on '${e.tensor.backend.name}'`);
      }
    }
    noGrad(() => scope(() => {
      for (const [name, e] of entries) {
        const v = values.get(name)!;
        // A copy of a tensor, so that nothing done to v later reaches the module.
        e.tensor.assign(v instanceof Tensor ? add(v, 0) : tensor(v.data, v.shape, e.tensor.backend));
      }
    }));
  }

  train(mode = true): this {
    this.training = mode;
    for (const m of this.children.values()) m.train(mode);
    return this;
  }

  eval(): this {
    return this.train(false);
  }

  /** Drops accumulated gradients (PyTorch's zero_grad(set_to_none=True)). */
  zeroGrad() {
    for (const p of this.parameters()) {
      p.grad?.dispose();
      p.grad = null;
    }
  }

  /** Frees every parameter and buffer. */
  dispose() {
    for (const e of this.stateEntries().values()) {
      e.tensor.grad?.dispose();
      e.tensor.dispose();
    }
  }
}
