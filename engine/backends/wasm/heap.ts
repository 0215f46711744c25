// The wasm heap: every tensor and scratch block lives in one WebAssembly.Memory. Blocks come in size
// classes (eight per power of two); a freed block waits on its class's list for the next request of
// that class, so a training loop that allocates the same shapes every step stops growing after one.
const PAGE = 65536;
const MAX_BYTES = 4 * 1024 ** 3; // wasm32 address space
const ALIGN = 64;
/** Kept readable past the top block: vector loops may read (never write) a few floats past a buffer's end. */
const SLACK = 256;

export function sizeClass(bytes: number): number {
  if (bytes <= ALIGN) return ALIGN;
  const step = Math.max(ALIGN, 2 ** (Math.floor(Math.log2(bytes - 1)) - 3));
  return Math.ceil(bytes / step) * step;
}

const gib = (bytes: number) => (bytes / 1024 ** 3).toFixed(2);

export class Heap {
  private top: number;
  private readonly freeLists = new Map<number, number[]>();
  /** Blocks handed out from a larger class than their request's, with that class. */
  private readonly oversized = new Map<number, number>();
  private f32View: Float32Array;
  private u32View: Uint32Array;
  private i32View: Int32Array;

  constructor(readonly memory: WebAssembly.Memory, base: number) {
    this.top = Math.ceil(base / ALIGN) * ALIGN;
    this.f32View = new Float32Array(memory.buffer);
    this.u32View = new Uint32Array(memory.buffer);
    this.i32View = new Int32Array(memory.buffer);
    this.ensure(this.top + SLACK);
  }

  /** Byte address of a block of at least `bytes` bytes, 64-byte aligned. */
  alloc(bytes: number): number {
    const cls = sizeClass(bytes);
    const list = this.freeLists.get(cls);
    if (list && list.length) return list.pop()!;
    if (this.top + cls + SLACK > MAX_BYTES) return this.reuseLarger(cls, bytes);
    const ptr = this.top;
    this.ensure(ptr + cls + SLACK);
    this.top = ptr + cls;
    return ptr;
  }

  release(ptr: number, bytes: number) {
    const real = this.oversized.get(ptr);
    if (real !== undefined) this.oversized.delete(ptr);
    const cls = real ?? sizeClass(bytes);
    let list = this.freeLists.get(cls);
    if (!list) this.freeLists.set(cls, (list = []));
    list.push(ptr);
  }

  /** Near the 4 GiB limit: serve the request from the smallest free block of a larger class. */
  private reuseLarger(cls: number, bytes: number): number {
    let best = 0;
    for (const [c, list] of this.freeLists) if (c > cls && list.length && (!best || c < best)) best = c;
    if (!best) {
      throw new Error(`voxgrad wasm backend (engine/backends/wasm/heap.ts): a tensor of ${bytes / 4} floats ` +
        `(${gib(bytes)} GiB) does not fit in the 4 GiB WebAssembly address space (${gib(this.top)} GiB in use)`);
    }
    // the block keeps its larger class: it returns to that list when freed
    const ptr = this.freeLists.get(best)!.pop()!;
    this.oversized.set(ptr, best);
    return ptr;
  }

  private ensure(bytes: number) {
    const have = this.memory.buffer.byteLength;
    if (bytes <= have) return;
    const pages = Math.ceil((bytes - have) / PAGE);
    try {
      this.memory.grow(pages);
    } catch (err) {
      throw new Error(`voxgrad wasm backend (engine/backends/wasm/heap.ts): cannot grow the heap to ${gib(bytes)} GiB: ` +
        `${(err as Error).message}`);
    }
  }

  /** Views over the current memory (growing replaces the buffer, so never keep one across an alloc). */
  get f32(): Float32Array {
    if (this.f32View.byteLength !== this.memory.buffer.byteLength) this.refresh();
    return this.f32View;
  }
  get u32(): Uint32Array {
    if (this.u32View.byteLength !== this.memory.buffer.byteLength) this.refresh();
    return this.u32View;
  }
  get i32(): Int32Array {
    if (this.i32View.byteLength !== this.memory.buffer.byteLength) this.refresh();
    return this.i32View;
  }

  private refresh() {
    this.f32View = new Float32Array(this.memory.buffer);
    this.u32View = new Uint32Array(this.memory.buffer);
    this.i32View = new Int32Array(this.memory.buffer);
  }

  /** Bytes spanned by the heap, for the memory tests and benchmarks. */
  get extent(): number { return this.top; }
}
