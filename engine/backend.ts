// The contract between the engine and a compute backend. A backend implements only these primitive
// kernels on flat float32 buffers; every user-facing op and every gradient is composed from them in
// engine/ops, so a new backend gets autograd and the whole op set for free.
import type { MemoryStats } from './memory-meter.ts';

/** An opaque buffer owned by one backend. */
export interface BackendBuffer {
  readonly size: number; // elements
}

export type UnaryOp =
  | 'neg' | 'exp' | 'log' | 'sqrt' | 'abs' | 'tanh' | 'sigmoid' | 'relu' | 'square' | 'sign'
  | 'step'    // x > 0 ? 1 : 0
  | 'pow'     // x ** a
  | 'clamp'   // min(max(x, a), b)
  | 'inRange' // a <= x <= b ? 1 : 0
  | 'affine'; // a * x + b

export type BinaryOp = 'add' | 'sub' | 'mul' | 'div' | 'lt' | 'le' | 'gt' | 'ge' | 'eq' | 'ne';

export type ReduceOp = 'sum' | 'max';

/** Geometry of a 3D convolution in PyTorch's sense: x [N, Cin, D, H, W] * w [Cout, Cin, kD, kH, kW]. */
export interface ConvGeometry {
  n: number; cin: number; cout: number;
  in: [number, number, number];     // D, H, W of x
  out: [number, number, number];    // D, H, W of y
  kernel: [number, number, number];
  stride: [number, number, number];
  padding: [number, number, number];
  dilation: [number, number, number];
}

/** A strided view of a buffer: element (i0, i1, …) lives at offset + Σ ik·strides[k]. */
export interface View {
  offset: number;
  strides: number[];
}

export interface Backend {
  readonly name: string;
  /** True on an emulated device (e.g. WebGPU on SwiftShader), which `auto` never prefers. */
  readonly software?: boolean;

  alloc(size: number): BackendBuffer;
  free(buf: BackendBuffer): void;
  write(buf: BackendBuffer, data: Float32Array): void;
  read(buf: BackendBuffer): Promise<Float32Array>;
  /** Buffers allocated and not yet freed; the memory tests watch it. */
  liveBuffers(): number;
  /** The most bytes this backend can ever hold, where there is such a bound (wasm32's 4 GiB). */
  readonly memoryLimit?: number;
  /** The largest single buffer it can hold, where that is bounded below memoryLimit (a GPU binding). */
  readonly bufferLimit?: number;
  /** The largest single buffer asked for so far, in bytes. */
  largestBuffer?(): number;
  /** The largest binding asked for so far, in bytes, before pooling rounds it up: what must fit bufferLimit. */
  largestBinding?(): number;
  /** The same backend on a device that only counts memory (no kernel runs, values meaningless). */
  accountant?(): Promise<Backend>;
  /** Bytes in use and held, with their high-water marks since the last resetMemoryPeaks. */
  memory(): MemoryStats;
  resetMemoryPeaks(): void;

  fill(out: BackendBuffer, value: number): void;
  /** out[dst view] = src[src view] over an index space of the given shape. */
  copy(src: BackendBuffer, srcView: View, out: BackendBuffer, outView: View, shape: number[]): void;

  unary(op: UnaryOp, x: BackendBuffer, out: BackendBuffer, a: number, b: number): void;
  /** Broadcasting through strides: a stride of 0 repeats an element. out is contiguous of outShape. */
  binary(op: BinaryOp, a: BackendBuffer, aStrides: number[], b: BackendBuffer, bStrides: number[],
         out: BackendBuffer, outShape: number[]): void;
  where(cond: BackendBuffer, cStrides: number[], a: BackendBuffer, aStrides: number[],
        b: BackendBuffer, bStrides: number[], out: BackendBuffer, outShape: number[]): void;

  /** x viewed as [outer, r, inner]; reduces the middle axis into out [outer, inner]. */
  reduce(op: ReduceOp, x: BackendBuffer, out: BackendBuffer, outer: number, r: number, inner: number): void;
  /** Index (first occurrence) of the maximum along the middle axis, as a float. */
  argmax(x: BackendBuffer, out: BackendBuffer, outer: number, r: number, inner: number): void;

  /** out[b] = op(a[b]) · op(b[b]) for each of `batch` contiguous [M,K]·[K,N] products. */
  matmul(a: BackendBuffer, b: BackendBuffer, out: BackendBuffer, batch: number, m: number, k: number, n: number,
         transA: boolean, transB: boolean): void;

  /** y = x ⋆ w, plus bias[co] on every voxel of channel co when a bias [Cout] is given. */
  conv3d(x: BackendBuffer, w: BackendBuffer, y: BackendBuffer, g: ConvGeometry, bias?: BackendBuffer): void;
  /**
   * dx = ∂(Σ y·dy)/∂x, also the forward of the transposed convolution, whose bias [Cin] (the
   * transposed convolution's output channels) is then added to every voxel of its channel.
   */
  conv3dBackwardInput(dy: BackendBuffer, w: BackendBuffer, dx: BackendBuffer, g: ConvGeometry, bias?: BackendBuffer): void;
  /** dw = ∂(Σ y·dy)/∂w. */
  conv3dBackwardWeight(x: BackendBuffer, dy: BackendBuffer, dw: BackendBuffer, g: ConvGeometry): void;

  /**
   * Per-channel statistics of x viewed as [n, c, vol]: stats[ch] = mean and stats[c + ch] = biased
   * variance over the n·vol values of channel ch, accumulated accurately (two passes; float64 where
   * the backend has it), since batch norm over whole volumes sums 10⁵–10⁶ values.
   */
  channelMoments(x: BackendBuffer, stats: BackendBuffer, n: number, c: number, vol: number): void;
  /**
   * The normalisation epilogue over x viewed as [n, c, vol]: z = x·scale[ch] + shift[ch], then
   * out = (relu ? max(z, 0) : z) + residual (residual, when given, has x's layout).
   */
  channelAffine(x: BackendBuffer, scale: BackendBuffer, shift: BackendBuffer, residual: BackendBuffer | null,
                out: BackendBuffer, n: number, c: number, vol: number, relu: boolean): void;
  /**
   * The per-channel sums of channelAffine's backward, in one pass: with gz = gy, masked where relu
   * and x·scale[ch] + shift[ch] ≤ 0 (z recomputed exactly as channelAffine computes it),
   * sums[ch] = Σ gz and sums[c + ch] = Σ gz·x over channel ch.
   */
  channelAffineBackward(gy: BackendBuffer, x: BackendBuffer, scale: BackendBuffer, shift: BackendBuffer,
                        sums: BackendBuffer, n: number, c: number, vol: number, relu: boolean): void;
  /**
   * The input gradient of a normalisation, in one pass: gx = gz·scale[ch] + x·a[ch] + b[ch], gz as in
   * channelAffineBackward; x·a + b is what reaches x through the channel's mean and variance.
   */
  channelAffineBackwardInput(gy: BackendBuffer, x: BackendBuffer, scale: BackendBuffer, shift: BackendBuffer,
                             a: BackendBuffer, b: BackendBuffer, gx: BackendBuffer, n: number, c: number, vol: number,
                             relu: boolean): void;

  /** Releases device resources; the process may exit afterwards. */
  dispose?(): void;
}
