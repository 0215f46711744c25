// One wasm instance with its heap and thread pool: what the backend and the convolution planner call.
import { Heap } from './heap.ts';
import { compileKernels, instantiate, type KernelArgs, type KernelName, type Kernels } from './kernels.ts';
import { descriptor } from './layout.ts';
import { MAX_PARTS, Pool } from './pool.ts';

/** Below this many elements (or multiply-adds) waking the other threads costs more than it saves. */
const PARALLEL_WORK = 1 << 17;
const MAX_PAGES = 65536;

export class Device {
  /** Descriptor space for strided kernels (i32) and per-part index scratch (64 bytes per part). */
  readonly desc: number;
  readonly scratch: number;
  /** How often each convolution route ran, by "pass route" (routes.ts): what tests and benchmarks observe. */
  readonly convRoutes = new Map<string, number>();

  private constructor(readonly heap: Heap, readonly kernels: Kernels, readonly pool: Pool, readonly relaxed: boolean,
                      readonly shared: boolean) {
    this.desc = heap.alloc(1024);
    this.scratch = heap.alloc(MAX_PARTS * 64);
  }

  static async create(shared: boolean): Promise<Device> {
    const { module, relaxed } = await compileKernels(shared);
    const memory = new WebAssembly.Memory({ initial: 256, maximum: MAX_PAGES, shared } as WebAssembly.MemoryDescriptor);
    const kernels = instantiate(module, memory);
    const heap = new Heap(memory, kernels.heapBase());
    const ctl = heap.alloc(64), args = heap.alloc(32 * 8);
    const pool = new Pool(kernels, module, shared ? memory : null, ctl, args);
    return new Device(heap, kernels, pool, relaxed, shared);
  }

  /** Runs a kernel on every thread when `work` (elements or multiply-adds) is worth it. */
  call<K extends KernelName>(name: K, args: KernelArgs<K>, work: number) {
    this.pool.run(name, args, work >= PARALLEL_WORK);
  }

  /** Writes i32 values at the descriptor area and returns its address. */
  describe(values: number[]): number {
    if (values.length > 256) throw new Error('voxgrad wasm backend: descriptor too long (rank too high)');
    this.heap.i32.set(values, this.desc >>> 2);
    return this.desc;
  }

  /** A scratch block of `floats` floats; give it back with release. */
  temp(floats: number): number {
    return this.heap.alloc(floats * 4);
  }

  release(ptr: number) {
    this.heap.release(ptr);
  }

  /** A scratch copy of the [rows, cols] matrix at src, transposed to [cols, rows]. */
  transposed(src: number, rows: number, cols: number): number {
    const dst = this.temp(rows * cols);
    const desc = this.describe(descriptor([cols, rows], [[rows, 1], [1, cols], [rows, 1]]));
    this.call('copy', [src, 0, dst, 0, rows * cols, desc, this.scratch], rows * cols);
    return dst;
  }

  /** A u32 table of byte addresses (B rows for the GEMM kernels). */
  table(addresses: ArrayLike<number>): number {
    const ptr = this.temp(addresses.length);
    this.heap.u32.set(addresses, ptr >>> 2);
    return ptr;
  }
}
