// The WebGPU backend: every primitive of engine/backend.ts as a WGSL kernel (shaders/*.wgsl).
// Kernels are recorded into a CommandBatch, which submits them a few dozen at a time and at each
// read-back; buffers come from a size-bucketed pool.
import type { Backend, BackendBuffer, BinaryOp, ConvGeometry, ReduceOp, UnaryOp, View } from '../../backend.ts';
import { CommandBatch, type ParamWriter } from './batch.ts';
import type { GpuContext } from './device.ts';
import { convVec, matmulVec, type VecLoads } from './gemm-vec.ts';
import { binaryCode, reduceCode, unaryCode } from './kernels.ts';
import { type Constants, PipelineCache } from './pipelines.ts';
import { MemoryMeter } from '../../memory-meter.ts';
import { BufferPool } from './pool.ts';
import type { ShaderName } from './shaders.ts';
import { collapse, MAX_RANK } from './strides.ts';
import { BufferUsage, MapMode } from './usage.ts';

const WG = 256; // threads per workgroup of the elementwise and reduce kernels (grid.wgsl)
const GEMM_BK = 16; // gemm_core.wgsl
/** Reduce with one thread per output once there are this many outputs, or when r is this short. */
const ROWS_MIN_OUTPUTS = 4096, ROWS_MAX_R = 64;
const TREE_CHUNK = 8 * WG; // elements per workgroup in a tree reduce pass
const CHANNEL_CHUNK = 16 * WG; // values of one channel per workgroup in the normalisation kernels
// Sums are plain float32 in a fixed order. Compensated (TwoSum) sums were tried (commit 4dd798c): they
// cut the per-op error against the ref backend from 4e-6 to 2e-7, but flip a
// ReLU in test/vnet.test.ts's train-mode case, whose bottleneck batch norm over 4 voxels amplifies
// rounding ~100× and leaves one ReLU input 1e-5 from zero: that test decides by rounding luck.
// Ported again onto the regenerated 32³ fixture (commit 16793e4, reverted): it still flips exactly one
// ReLU, in block_eight, whose input is 4.1e-6 in ref (the fixture's smallest ReLU margins are ~3e-6),
// and the gradients upstream of it then miss 1e-3 by up to 8.5×. Compensated sums need a fixture with
// margins well above float32 rounding (≫ 1e-5) first; a port must also keep ±inf, which makes the
// TwoSum compensation NaN.
/** Split-K for the weight gradient: aim for this many workgroups, each summing at least MIN_K. */
const SPLIT_TARGET_WORKGROUPS = 512, SPLIT_MIN_K = 256, SPLIT_MAX = 256;

class GpuTensorBuffer implements BackendBuffer {
  constructor(readonly size: number, readonly gpu: GPUBuffer) {}
}

const gpuOf = (b: BackendBuffer) => (b as GpuTensorBuffer).gpu;

export type ConvPass = 'forward' | 'inputGrad' | 'weightGrad';
/**
 * The conv routes of each pass, by name (WebGPUBackend.convRoutes counts those that ran, so tests can
 * tell every one was reached): the implicit GEMM of conv3d.wgsl, the input gradient by taps where
 * kernel = stride tiles the input (mode 3), the weight gradient split over K and then summed.
 */
const convRoutes: Record<ConvPass, string[]> = {
  forward: ['implicit-gemm'], inputGrad: ['taps', 'implicit-gemm'], weightGrad: ['implicit-gemm', 'split-k'],
};
export const convRouteNames = (pass: ConvPass) => convRoutes[pass];

/** GEMM tile (rows × columns of C per workgroup): narrow M (few channels) gets wider N tiles. */
function gemmTile(m: number): [number, number] {
  if (m <= 16) return [16, 128];
  if (m <= 32) return [32, 64];
  return [64, 64];
}

/** How one conv pass runs on the GEMM core (conv3d.wgsl's MODE): its route, GEMM shape, tile, loads, split-K. */
export interface ConvPlan {
  route: string; mode: 0 | 1 | 2 | 3;
  m: number; n: number; k: number; batch: number; splits: number; kSplit: number;
  tile: [number, number]; vec: VecLoads;
}

function planConv(pass: ConvPass, g: ConvGeometry, tileOf: (m: number) => [number, number], splitTarget: number): ConvPlan {
  const one = (route: string, mode: 0 | 1 | 3, m: number, n: number, k: number, batch = 1): ConvPlan =>
    ({ route, mode, m, n, k, batch, splits: 1, kSplit: k, tile: tileOf(m), vec: convVec(mode, g) });
  if (pass === 'forward') return one('implicit-gemm', 0, g.cout, g.n * vol(g.out), g.cin * vol(g.kernel));
  if (pass === 'inputGrad') {
    return tapsPartitionInput(g)
      ? one('taps', 3, g.cin, g.n * vol(g.out), g.cout, vol(g.kernel))
      : one('implicit-gemm', 1, g.cin, g.n * vol(g.in), g.cout * vol(g.kernel));
  }
  const m = g.cout, n = g.cin * vol(g.kernel), k = g.n * vol(g.out);
  const tile = tileOf(m);
  const tiles = Math.ceil(m / tile[0]) * Math.ceil(n / tile[1]);
  const wanted = Math.min(Math.ceil(splitTarget / tiles), Math.ceil(k / SPLIT_MIN_K), SPLIT_MAX);
  const kSplit = Math.ceil(k / Math.max(wanted, 1) / GEMM_BK) * GEMM_BK;
  const splits = Math.max(1, Math.ceil(k / kSplit));
  return { route: splits === 1 ? 'implicit-gemm' : 'split-k', mode: 2, m, n, k, batch: 1, splits, kSplit, tile, vec: convVec(2, g) };
}

export class WebGPUBackend implements Backend {
  readonly name: 'webgpu' | 'webgpu-accounting';
  readonly adapterName: string;
  readonly software: boolean;
  readonly features: string[];
  private readonly device: GPUDevice;
  private readonly limits: GPUSupportedLimits;
  private readonly pipelines: PipelineCache;
  private readonly batch: CommandBatch;
  private readonly storage: BufferPool;
  private readonly staging: BufferPool;
  private readonly subgroupMinSize: number;
  private readonly maxBindingBytes: number;
  /** How many times each conv route ran, keyed `${pass} ${route}` (as the wasm backend's Device.convRoutes). */
  readonly convRoutes = new Map<string, number>();
  /** Max/argmax tree reductions finish with subgroup operations; on by default where the device has them. */
  subgroupReduce: boolean;
  /**
   * For benchmarks' ablations (bench/lib/gpu/ablations.ts): a forced GEMM tile [BM, BN] and split-K
   * target (workgroups) of the weight gradient. Empty, as in production, the backend chooses.
   */
  gemmOverride: { tile?: [number, number]; splitTargetWorkgroups?: number } = {};
  private live = 0;
  private readbacks = 0;
  private readWaitSeconds = 0;
  private readonly meter = new MemoryMeter();
  private error: string | null = null;
  /** Set by dispose(), whose own destroy() of the device is no loss. */
  private disposed = false;

  constructor(ctx: GpuContext) {
    this.name = ctx.accounting ? 'webgpu-accounting' : 'webgpu';
    this.device = ctx.device;
    this.adapterName = ctx.adapterName;
    this.software = ctx.software;
    this.features = ctx.features;
    this.subgroupMinSize = ctx.subgroupMinSize;
    this.subgroupReduce = ctx.features.includes('subgroups');
    this.limits = ctx.device.limits;
    this.maxBindingBytes = ctx.maxBindingBytes ?? Infinity;
    this.pipelines = new PipelineCache(this.device);
    this.batch = new CommandBatch(this.device);
    this.storage = new BufferPool(this.device, BufferUsage.STORAGE | BufferUsage.COPY_SRC | BufferUsage.COPY_DST,
                                  'tensor', this.bufferLimit, this.meter);
    this.staging = new BufferPool(this.device, BufferUsage.MAP_READ | BufferUsage.COPY_DST, 'readback',
                                  this.limits.maxBufferSize, this.meter);
    this.device.addEventListener('uncapturederror', (e) => {
      this.error ??= (e as GPUUncapturedErrorEvent).error.message;
    });
    void this.device.lost.then((info) => {
      if (!this.disposed) this.error ??= `the GPU device was lost (${info.reason}${info.message ? `: ${info.message}` : ''}); its tensors are gone`;
    });
  }

  /** The largest single buffer this device allows, in bytes: every tensor is bound whole. */
  get bufferLimit() { return Math.min(this.limits.maxStorageBufferBindingSize, this.limits.maxBufferSize, this.maxBindingBytes); }
  /** The largest tensor or scratch buffer asked for so far, in bytes. */
  largestBuffer() { return this.storage.largest; }
  /** The largest tensor or scratch buffer as asked for, before the pool rounds it up: what bufferLimit bounds. */
  largestBinding() { return this.storage.largestAsked; }

  /** This backend on an accounting device with this device's limits and features: memory known before running. */
  async accountant(): Promise<Backend> {
    const { accountingContext } = await import('./accounting-device.ts');
    return new WebGPUBackend(accountingContext({ limits: this.limits, features: this.features, subgroupMinSize: this.subgroupMinSize }));
  }

  /** GPU buffers in existence (in use or pooled): flat in a steady training loop. */
  gpuBuffers() { return this.storage.total + this.staging.total; }
  /**
   * Counters for benchmarks: kernels dispatched, bind groups created, command buffers submitted,
   * buffers mapped for reading, pipelines built; seconds of JavaScript recording (encode) and
   * submitting work, and of waiting for read-backs (the GPU's work lands there).
   */
  stats() {
    const b = this.batch;
    return { dispatches: b.dispatches, bindGroups: b.bindGroups, submits: b.submits, readbacks: this.readbacks,
             pipelines: this.pipelines.size, encodeSeconds: b.encodeSeconds, submitSeconds: b.submitSeconds,
             readWaitSeconds: this.readWaitSeconds };
  }

  alloc(size: number): BackendBuffer {
    this.live++;
    return new GpuTensorBuffer(size, this.scratch(size));
  }

  free(buf: BackendBuffer) {
    this.live--;
    this.storage.release(gpuOf(buf));
  }

  write(buf: BackendBuffer, data: Float32Array) {
    if (data.length) this.batch.write(gpuOf(buf), data);
  }

  async read(buf: BackendBuffer): Promise<Float32Array> {
    const bytes = buf.size * 4;
    let out = new Float32Array(0);
    if (bytes) {
      const staging = this.staging.acquire(bytes);
      this.batch.copy(gpuOf(buf), 0, staging, 0, bytes);
      this.batch.flush();
      this.readbacks++;
      const t0 = performance.now();
      try {
        await staging.mapAsync(MapMode.READ, 0, bytes);
        this.readWaitSeconds += (performance.now() - t0) / 1000;
      } catch (err) {
        // a lost device fails every map: the loss, reported by its own promise, says more than the map
        await Promise.race([this.device.lost, new Promise((ok) => setTimeout(ok, 100))]);
        throw new Error(`voxgrad webgpu: ${this.error ?? `reading a tensor failed (${(err as Error).message})`}`);
      }
      out = new Float32Array(staging.getMappedRange(0, bytes).slice(0));
      staging.unmap();
      this.staging.release(staging);
    }
    if (this.error) throw new Error(`voxgrad webgpu: ${this.error}`);
    return out;
  }

  liveBuffers() { return this.live; }
  /** Bytes of GPU buffers in use and created (in use or pooled), as this process asked for them. */
  memory() { return this.meter.read(); }
  resetMemoryPeaks() { this.meter.resetPeaks(); }

  /** Resolves when every kernel recorded so far has finished (benchmarks time with it). */
  async sync() {
    this.batch.flush();
    await this.device.queue.onSubmittedWorkDone();
    if (this.error) throw new Error(`voxgrad webgpu: ${this.error}`);
  }

  fill(out: BackendBuffer, value: number) {
    this.elementwise('fill', {}, [gpuOf(out)], out.size, (w) => w.f(value));
  }

  copy(src: BackendBuffer, srcView: View, out: BackendBuffer, outView: View, shape: number[]) {
    this.strided('copy', {}, [gpuOf(src), gpuOf(out)], shape,
                 [srcView.strides, shape.map(() => 0), outView.strides], [srcView.offset, 0, outView.offset]);
  }

  unary(op: UnaryOp, x: BackendBuffer, out: BackendBuffer, a: number, b: number) {
    this.elementwise('unary', { OP: unaryCode(op) }, [gpuOf(x), gpuOf(out)], out.size, (w) => w.f(a, b));
  }

  binary(op: BinaryOp, a: BackendBuffer, aStrides: number[], b: BackendBuffer, bStrides: number[],
         out: BackendBuffer, outShape: number[]) {
    this.strided('binary', { OP: binaryCode(op) }, [gpuOf(a), gpuOf(b), gpuOf(out)], outShape,
                 [aStrides, bStrides, outShape.map(() => 0)], [0, 0, 0]);
  }

  where(cond: BackendBuffer, cStrides: number[], a: BackendBuffer, aStrides: number[],
        b: BackendBuffer, bStrides: number[], out: BackendBuffer, outShape: number[]) {
    this.strided('where', {}, [gpuOf(a), gpuOf(b), gpuOf(cond), gpuOf(out)], outShape,
                 [aStrides, bStrides, cStrides], [0, 0, 0]);
  }

  reduce(op: ReduceOp, x: BackendBuffer, out: BackendBuffer, outer: number, r: number, inner: number) {
    this.reduceAny(op, gpuOf(x), gpuOf(out), outer, r, inner);
  }

  argmax(x: BackendBuffer, out: BackendBuffer, outer: number, r: number, inner: number) {
    this.reduceAny('argmax', gpuOf(x), gpuOf(out), outer, r, inner);
  }

  channelMoments(x: BackendBuffer, stats: BackendBuffer, n: number, c: number, vol: number) {
    const chunks = this.channelChunks(n, c, vol);
    if (!chunks) return;
    const partial = this.scratch(2 * c * chunks.count);
    this.batch.dispatch(this.pipelines.get('channelMoments'), [gpuOf(x), partial], chunks.params, [chunks.count, c, 1]);
    this.batch.dispatch(this.pipelines.get('channelMomentsMerge'), [partial, gpuOf(stats)], chunks.params,
                        [Math.ceil(c / WG), 1, 1]);
    this.storage.release(partial);
  }

  channelAffine(x: BackendBuffer, scale: BackendBuffer, shift: BackendBuffer, residual: BackendBuffer | null,
                out: BackendBuffer, n: number, c: number, vol: number, relu: boolean) {
    // without a residual its binding holds x, which the kernel then never reads
    const buffers = [x, scale, shift, residual ?? x, out].map(gpuOf);
    this.elementwise('channelAffine', { RELU: relu, RESIDUAL: residual !== null }, buffers, n * c * vol,
                     (w) => w.u(c, vol));
  }

  channelAffineBackward(gy: BackendBuffer, x: BackendBuffer, scale: BackendBuffer, shift: BackendBuffer,
                        sums: BackendBuffer, n: number, c: number, vol: number, relu: boolean) {
    const chunks = this.channelChunks(n, c, vol);
    if (!chunks) return;
    const partial = this.scratch(2 * c * chunks.count);
    this.batch.dispatch(this.pipelines.get('channelAffineBackward', { RELU: relu }),
                        [...[gy, x, scale, shift].map(gpuOf), partial], chunks.params, [chunks.count, c, 1]);
    this.reduceAny('sum', partial, gpuOf(sums), 2 * c, chunks.count, 1);
    this.storage.release(partial);
  }

  channelAffineBackwardInput(gy: BackendBuffer, x: BackendBuffer, scale: BackendBuffer, shift: BackendBuffer,
                             a: BackendBuffer, b: BackendBuffer, gx: BackendBuffer, n: number, c: number, vol: number,
                             relu: boolean) {
    this.elementwise('channelAffineBackwardInput', { RELU: relu }, [gy, x, scale, shift, a, b, gx].map(gpuOf),
                     n * c * vol, (w) => w.u(c, vol));
  }

  matmul(a: BackendBuffer, b: BackendBuffer, out: BackendBuffer, batch: number, m: number, k: number, n: number,
         transA: boolean, transB: boolean) {
    this.gemm('matmul', { TRANS_A: transA, TRANS_B: transB, ...matmulVec(m, k, n, transA, transB) },
              [gpuOf(a), gpuOf(b), gpuOf(out)],
              { m, n, k, batch, splits: 1, kSplit: k }, () => {});
  }

  /** The route, GEMM shape, tile, vec4 loads and split-K that a conv pass of this geometry runs with. */
  convPlan(pass: ConvPass, g: ConvGeometry): ConvPlan {
    return planConv(pass, g, (m) => this.tileFor(m), this.gemmOverride.splitTargetWorkgroups ?? SPLIT_TARGET_WORKGROUPS);
  }

  conv3d(x: BackendBuffer, w: BackendBuffer, y: BackendBuffer, g: ConvGeometry, bias?: BackendBuffer) {
    const plan = this.convPlan('forward', g);
    this.countRoute('forward', plan.route);
    this.gemm('conv3d', { MODE: plan.mode, HAS_BIAS: !!bias, ...plan.vec }, [gpuOf(w), gpuOf(x), gpuOf(y), gpuOf(bias ?? w)],
              plan, (p) => convParams(p, g));
  }

  conv3dBackwardInput(dy: BackendBuffer, w: BackendBuffer, dx: BackendBuffer, g: ConvGeometry, bias?: BackendBuffer) {
    // Without a bias the bias binding holds w again: the pipeline layout has the slot either way.
    const buffers = [gpuOf(w), gpuOf(dy), gpuOf(dx), gpuOf(bias ?? w)];
    const plan = this.convPlan('inputGrad', g);
    this.countRoute('inputGrad', plan.route);
    this.gemm('conv3d', { MODE: plan.mode, HAS_BIAS: !!bias, ...plan.vec }, buffers, plan, (p) => convParams(p, g));
  }

  conv3dBackwardWeight(x: BackendBuffer, dy: BackendBuffer, dw: BackendBuffer, g: ConvGeometry) {
    const plan = this.convPlan('weightGrad', g);
    const constants = { MODE: plan.mode, ...plan.vec };
    this.countRoute('weightGrad', plan.route);
    if (plan.splits === 1) {
      this.gemm('conv3d', constants, [gpuOf(dy), gpuOf(x), gpuOf(dw), gpuOf(dy)], plan, (p) => convParams(p, g));
      return;
    }
    const partial = this.scratch(plan.splits * plan.m * plan.n);
    this.gemm('conv3d', constants, [gpuOf(dy), gpuOf(x), partial, gpuOf(dy)], plan, (p) => convParams(p, g));
    this.reduceAny('sum', partial, gpuOf(dw), 1, plan.splits, plan.m * plan.n);
    this.storage.release(partial);
  }

  private countRoute(pass: ConvPass, route: string) {
    const key = `${pass} ${route}`;
    this.convRoutes.set(key, (this.convRoutes.get(key) ?? 0) + 1);
  }

  dispose() {
    this.disposed = true;
    this.batch.flush();
    this.storage.destroy();
    this.staging.destroy();
    this.batch.destroy();
    this.device.destroy();
  }

  /** A pooled storage buffer of `size` floats; a tensor larger than one binding is refused. */
  private scratch(size: number): GPUBuffer {
    const bytes = Math.ceil(size / 4) * 16; // whole vec4s: the GEMM kernels read operands as array<vec4<f32>>
    const limit = this.bufferLimit;
    if (bytes > limit) {
      throw new Error(`voxgrad webgpu: a buffer of ${size} floats (${bytes} bytes) exceeds this adapter's ` +
                      `maxStorageBufferBindingSize/maxBufferSize of ${limit} bytes (${this.adapterName})`);
    }
    return this.storage.acquire(bytes);
  }

  /** Workgroup grid for `groups` workgroups, folded into 2-D past the per-dimension limit. */
  private grid(groups: number): [number, number, number] {
    const max = this.limits.maxComputeWorkgroupsPerDimension;
    const x = Math.min(groups, max), y = Math.ceil(groups / x);
    if (y > max) throw new Error(`voxgrad webgpu: ${groups} workgroups exceed maxComputeWorkgroupsPerDimension² (${max}²)`);
    return [x, y, 1];
  }

  private elementwise(shader: ShaderName, constants: Constants, buffers: GPUBuffer[], total: number,
                      tail: (w: ParamWriter) => void) {
    if (total === 0) return;
    const grid = this.grid(Math.ceil(total / WG));
    this.batch.dispatch(this.pipelines.get(shader, constants), buffers, (w) => tail(w.u(total, grid[0])), grid);
  }

  /**
   * Chunks of each channel's n·vol values, one workgroup each (channel_common.wgsl): enough of them
   * to fill the device when a few channels hold whole volumes. Null when there is nothing to do.
   */
  private channelChunks(n: number, c: number, vol: number) {
    const count = n * vol;
    const max = this.limits.maxComputeWorkgroupsPerDimension;
    if (c === 0 || count === 0) return null;
    if (c > max) throw new Error(`voxgrad webgpu: ${c} channels exceed maxComputeWorkgroupsPerDimension (${max})`);
    const chunk = Math.max(CHANNEL_CHUNK, Math.ceil(count / max / WG) * WG);
    const chunks = Math.ceil(count / chunk);
    return { count: chunks, params: (w: ParamWriter) => w.u(n, c, vol, chunk, chunks) };
  }

  /** A kernel over an index space with three strided operands (strided.wgsl). */
  private strided(shader: ShaderName, constants: Constants, buffers: GPUBuffer[], shape: number[],
                  strideSets: number[][], base: number[]) {
    const total = shape.reduce((a, b) => a * b, 1);
    if (total === 0) return;
    const c = collapse(shape, strideSets);
    if (c.shape.length > MAX_RANK) {
      throw new Error(`voxgrad webgpu: ${shader} over [${shape}] needs ${c.shape.length} strided axes, at most ${MAX_RANK}`);
    }
    const grid = this.grid(Math.ceil(total / WG));
    const pad = (v: number[]) => [...v, ...new Array(MAX_RANK - v.length).fill(0)];
    this.batch.dispatch(this.pipelines.get(shader, constants), buffers, (w) => {
      w.u(total, c.shape.length, grid[0], 0).i(...base, 0).u(...pad(c.shape));
      for (const s of c.strides) w.i(...pad(s));
    }, grid);
  }

  private reduceAny(op: ReduceOp | 'argmax', x: GPUBuffer, out: GPUBuffer, outer: number, r: number, inner: number,
                    pairsIn = false) {
    const columns = outer * inner;
    if (columns === 0) return;
    if (r === 0) {
      this.elementwise('fill', {}, [out], columns, (w) => w.f(op === 'max' ? -Infinity : 0));
      return;
    }
    const OP = reduceCode(op);
    if (!pairsIn && (columns >= ROWS_MIN_OUTPUTS || r <= ROWS_MAX_R)) {
      const grid = this.grid(Math.ceil(columns / WG));
      this.batch.dispatch(this.pipelines.get('reduceRows', { OP }), [x, out],
                          (w) => w.u(outer, r, inner, grid[0]), grid);
      return;
    }
    // Tree passes: partials [column, chunk] (value, index pairs for argmax) until one chunk remains.
    const max = this.limits.maxComputeWorkgroupsPerDimension;
    const chunk = Math.max(TREE_CHUNK, Math.ceil(r / max / WG) * WG);
    const chunks = Math.ceil(r / chunk);
    const pipeline = this.subgroupReduce && op !== 'sum'
      ? this.pipelines.get('reduceTreeSubgroup', { OP, PAIRS_IN: pairsIn, SG_MIN: this.subgroupMinSize })
      : this.pipelines.get('reduceTree', { OP, PAIRS_IN: pairsIn });
    const params = (w: ParamWriter) => w.u(outer, r, inner, chunk, chunks, 0);
    if (chunks === 1) {
      this.batch.dispatch(pipeline, [x, out], params, [1, columns, 1]);
      return;
    }
    const partial = this.scratch(columns * chunks * (op === 'argmax' ? 2 : 1));
    this.batch.dispatch(pipeline, [x, partial], params, [chunks, columns, 1]);
    this.reduceAny(op, partial, out, columns, chunks, 1, op === 'argmax');
    this.storage.release(partial);
  }

  private tileFor(m: number): [number, number] { return this.gemmOverride.tile ?? gemmTile(m); }

  /** C = A·B on the tiled core; N is tiled along x in as many dispatches as the grid limit needs. */
  private gemm(shader: ShaderName, constants: Constants, buffers: GPUBuffer[],
               s: { m: number; n: number; k: number; batch: number; splits: number; kSplit: number },
               extra: (w: ParamWriter) => void) {
    if (s.m === 0 || s.n === 0 || s.batch === 0) return;
    const [bm, bn] = this.tileFor(s.m);
    const pipeline = this.pipelines.get(shader, { ...constants, BM: bm, BN: bn });
    const max = this.limits.maxComputeWorkgroupsPerDimension;
    const tilesX = Math.ceil(s.n / bn), tilesY = Math.ceil(s.m / bm), z = s.batch * s.splits;
    if (tilesY > max || z > max) {
      throw new Error(`voxgrad webgpu: ${shader} of ${s.batch}×[${s.m}×${s.k}]·[${s.k}×${s.n}] exceeds ` +
                      `maxComputeWorkgroupsPerDimension (${max})`);
    }
    for (let base = 0; base < tilesX; base += max) {
      this.batch.dispatch(pipeline, buffers, (w) => {
        w.u(s.m, s.n, s.k, s.kSplit, s.splits, base, 0); // zero: gemm_core.wgsl's opaque()
        extra(w);
      }, [Math.min(max, tilesX - base), tilesY, z]);
    }
  }
}

const vol = (v: readonly number[]) => v[0] * v[1] * v[2];

/** Kernel = stride, no padding or dilation, and x exactly tiled: each input voxel meets one tap. */
export function tapsPartitionInput(g: ConvGeometry): boolean {
  return [0, 1, 2].every((d) => g.kernel[d] === g.stride[d] && g.padding[d] === 0 && g.dilation[d] === 1 &&
                               g.in[d] === g.out[d] * g.stride[d]);
}

/** The conv3d.wgsl uniform after the seven GEMM words. */
function convParams(w: ParamWriter, g: ConvGeometry) {
  w.u(g.n, g.cin, g.cout, vol(g.kernel), vol(g.in), vol(g.out)).align();
  for (const v of [g.in, g.out, g.kernel, g.stride, g.padding, g.dilation]) w.i(v[0], v[1], v[2], 0);
}
