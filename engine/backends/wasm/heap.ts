// The wasm heap: every tensor and scratch block lives in one WebAssembly.Memory, which can grow but never
// shrink. Freed blocks merge with free neighbours (and a free block at the top lowers the top), requests
// take the smallest free block that fits, and only then does the top move up: so the memory a run needs
// follows its live bytes, not the history of its shapes (size classes that never merged let one
// training run's leftovers fill the 4 GiB address space before a validation pass of other shapes).
import { formatGiB } from '../../memory-meter.ts';

const PAGE = 65536;
/** wasm32's address space. */
export const MAX_BYTES = 4 * 1024 ** 3;
const ALIGN = 64;
/** Kept readable past the top block: vector loops may read (never write) a few floats past a buffer's end. */
const SLACK = 256;

const blockSize = (bytes: number) => Math.max(ALIGN, Math.ceil(bytes / ALIGN) * ALIGN);

/** Byte counts of the heap now and at its high-water marks (since the last resetPeaks). */
export interface HeapStats {
  /** Bytes in blocks handed out and not yet released. */
  live: number;
  peakLive: number;
  /** Bytes from the heap's base to its top: the address space in use, free gaps included. */
  extent: number;
  peakExtent: number;
}

export class Heap {
  private readonly base: number;
  private top: number;
  /** Free blocks by address, by end address (to find a freed block's left neighbour) and by size. */
  private readonly freeAt = new Map<number, number>();
  private readonly freeEnding = new Map<number, number>();
  private readonly bySize = new Map<number, number[]>();
  private readonly used = new Map<number, number>();
  private liveBytes = 0;
  private peakLive = 0;
  private peakTop: number;
  private f32View: Float32Array;
  private u32View: Uint32Array;
  private i32View: Int32Array;

  constructor(readonly memory: WebAssembly.Memory, base: number) {
    this.base = this.top = this.peakTop = Math.ceil(base / ALIGN) * ALIGN;
    this.f32View = new Float32Array(memory.buffer);
    this.u32View = new Uint32Array(memory.buffer);
    this.i32View = new Int32Array(memory.buffer);
    this.ensure(this.top + SLACK);
  }

  /** Byte address of a block of at least `bytes` bytes, 64-byte aligned. */
  alloc(bytes: number): number {
    const size = blockSize(bytes);
    const ptr = this.takeFree(size) ?? this.bump(size, bytes);
    this.used.set(ptr, size);
    this.liveBytes += size;
    if (this.liveBytes > this.peakLive) this.peakLive = this.liveBytes;
    return ptr;
  }

  release(ptr: number) {
    let size = this.used.get(ptr);
    if (size === undefined) throw new Error(`voxgrad wasm backend (engine/backends/wasm/heap.ts): release of ${ptr}, which is not an allocated block`);
    this.used.delete(ptr);
    this.liveBytes -= size;
    const right = this.freeAt.get(ptr + size);
    if (right !== undefined) {
      this.unlist(ptr + size, right);
      size += right;
    }
    const left = this.freeEnding.get(ptr);
    if (left !== undefined) {
      const leftSize = ptr - left;
      this.unlist(left, leftSize);
      ptr = left;
      size += leftSize;
    }
    if (ptr + size === this.top) this.top = ptr;
    else this.list(ptr, size);
  }

  /** The smallest free block that holds `size` bytes, split so that the rest stays free. */
  private takeFree(size: number): number | undefined {
    let best = 0;
    if (!this.bySize.has(size)) {
      for (const s of this.bySize.keys()) if (s > size && (!best || s < best)) best = s;
      if (!best) return undefined;
    } else best = size;
    const ptr = this.bySize.get(best)!.at(-1)!;
    this.unlist(ptr, best);
    if (best > size) this.list(ptr + size, best - size);
    return ptr;
  }

  private bump(size: number, bytes: number): number {
    if (this.top + size + SLACK > MAX_BYTES) {
      let largest = 0;
      for (const s of this.bySize.keys()) largest = Math.max(largest, s);
      throw new Error(`voxgrad wasm backend (engine/backends/wasm/heap.ts): a tensor of ${bytes / 4} floats ` +
        `(${formatGiB(bytes)}) does not fit in the 4 GiB WebAssembly address space: ${formatGiB(this.liveBytes)} live ` +
        `in ${this.used.size} blocks, the largest free gap ${formatGiB(largest)}`);
    }
    const ptr = this.top;
    this.ensure(ptr + size + SLACK);
    this.top = ptr + size;
    if (this.top > this.peakTop) this.peakTop = this.top;
    return ptr;
  }

  private list(ptr: number, size: number) {
    this.freeAt.set(ptr, size);
    this.freeEnding.set(ptr + size, ptr);
    const same = this.bySize.get(size);
    if (same) same.push(ptr);
    else this.bySize.set(size, [ptr]);
  }

  private unlist(ptr: number, size: number) {
    this.freeAt.delete(ptr);
    this.freeEnding.delete(ptr + size);
    const same = this.bySize.get(size)!;
    if (same.length === 1) this.bySize.delete(size);
    else {
      const at = same.lastIndexOf(ptr);
      same[at] = same[same.length - 1];
      same.pop();
    }
  }

  private ensure(bytes: number) {
    const have = this.memory.buffer.byteLength;
    if (bytes <= have) return;
    const pages = Math.ceil((bytes - have) / PAGE);
    try {
      this.memory.grow(pages);
    } catch (err) {
      throw new Error(`voxgrad wasm backend (engine/backends/wasm/heap.ts): cannot grow the heap to ${formatGiB(bytes)}: ` +
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

  get stats(): HeapStats {
    return { live: this.liveBytes, peakLive: this.peakLive, extent: this.top - this.base, peakExtent: this.peakTop - this.base };
  }

  /** Starts new high-water marks at the current values (to measure one phase of a run). */
  resetPeaks() {
    this.peakLive = this.liveBytes;
    this.peakTop = this.top;
  }
}
