// A tensor is a shape over a reference-counted backend buffer. Storage is always contiguous and
// row-major in the logical layout (N, C, D, H, W for volumes); views are materialised by copies,
// except reshape, which shares the buffer. Tensor.backward() is defined by backward.ts, which runs the
// tape with ops that this file lies below.
import type { Backend, BackendBuffer } from './backend.ts';
import { getBackend } from './registry.ts';
import { state } from './state.ts';

/** How a tensor was made, as the tape records it (autograd.ts). */
export interface GradNode {
  name: string;
  inputs: Tensor[];
  /** Gradients of the inputs given the output's gradient; null where an input gets none. */
  backward(gy: Tensor): (Tensor | null)[];
}

export class Storage {
  private refs = 1;
  constructor(readonly backend: Backend, readonly buf: BackendBuffer) {}
  retain() { this.refs++; }
  release() {
    if (--this.refs === 0) this.backend.free(this.buf);
  }
}

export class Tensor {
  readonly size: number;
  requiresGrad = false;
  grad: Tensor | null = null;
  node: GradNode | null = null;
  private _storage: Storage | null;
  private readonly _backend: Backend;
  /** Writes this tensor's values into a buffer again, from tensors that outlive it. */
  private _recompute: ((out: BackendBuffer) => void) | null = null;

  constructor(storage: Storage, readonly shape: readonly number[]) {
    this.size = shape.reduce((a, b) => a * b, 1);
    if (storage.buf.size < this.size) throw new Error('voxgrad: storage smaller than shape');
    this._storage = storage;
    this._backend = storage.backend;
    state.scopes[state.scopes.length - 1]?.add(this);
    state.onTensorCreated?.();
  }

  get storage(): Storage {
    if (!this._storage) {
      if (!this._recompute) throw new Error(`voxgrad: tensor of shape [${this.shape}] used after dispose`);
      const buf = this._backend.alloc(this.size);
      this._recompute(buf);
      this._storage = new Storage(this._backend, buf);
      state.rematerialized.push(this);
    }
    return this._storage;
  }
  get buf(): BackendBuffer { return this.storage.buf; }
  get backend(): Backend { return this._backend; }
  get rank() { return this.shape.length; }
  /** The storage if the buffer is held now (neither disposed nor dropped), without recomputing it. */
  get heldStorage(): Storage | null { return this._storage; }
  get isDisposed() { return this._storage === null && this._recompute === null; }

  /**
   * Declares how to recompute the values (the same kernel on the same inputs, so bit for bit), after
   * which drop() may let the buffer go while the graph still refers to the tensor.
   */
  recomputeWith(fn: (out: BackendBuffer) => void) {
    this._recompute = fn;
  }

  /** Holds the buffer from now on, bringing it back if dropped: for a tensor that outlives its recipe's inputs. */
  settle() {
    if (!this._recompute) return;
    void this.storage;
    this._recompute = null;
  }

  /** Frees the buffer of a recomputable tensor until its next read; does nothing to any other. */
  drop() {
    if (!this._recompute || !this._storage) return;
    this._storage.release();
    this._storage = null;
  }

  /** Copies the values out (row-major) on every backend. */
  async data(): Promise<Float32Array> {
    const all = await this.backend.read(this.buf);
    return all.length === this.size ? all : all.subarray(0, this.size);
  }

  async item(): Promise<number> {
    if (this.size !== 1) throw new Error(`voxgrad: item() needs one element, tensor has shape [${this.shape}]`);
    return (await this.data())[0];
  }

  dispose() {
    this._recompute = null;
    this.node = null;
    if (!this._storage) return;
    this._storage.release();
    this._storage = null;
  }

  /** Replaces this tensor's values by those of `value` (same shape), keeping its identity. */
  assign(value: Tensor) {
    if (value.shape.join() !== this.shape.join()) {
      throw new Error(`voxgrad: assign of shape [${value.shape}] to [${this.shape}]`);
    }
    value.storage.retain();
    this.storage.release();
    this._storage = value.storage;
  }

  toString() { return `Tensor([${this.shape}], ${this.backend.name})`; }
}

/** Drops again every recomputable tensor that a read brought back (the backward pass calls it after each node). */
export function dropRematerialized() {
  for (const t of state.rematerialized.splice(0)) t.drop();
}

/** A new tensor over a fresh buffer of the current (or given) backend. */
export function empty(shape: readonly number[], backend: Backend = getBackend()): Tensor {
  const size = shape.reduce((a, b) => a * b, 1);
  for (const d of shape) {
    if (!Number.isInteger(d) || d < 0) throw new Error(`voxgrad: bad shape [${shape}]`);
  }
  return new Tensor(new Storage(backend, backend.alloc(size)), shape.slice());
}

/** A tensor sharing `t`'s buffer under another shape. */
export function shareStorage(t: Tensor, shape: readonly number[]): Tensor {
  t.storage.retain();
  return new Tensor(t.storage, shape.slice());
}
