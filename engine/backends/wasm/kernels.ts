// The compiled AssemblyScript module (asm/, built by build.mjs in four variants) and the signatures of
// its exports. Relaxed SIMD (fused multiply-add) is used where the runtime validates it; shared memory
// where threads can run.
import simd from '../../../asm/build/simd.wasm';
import simdShared from '../../../asm/build/simd-shared.wasm';
import relaxed from '../../../asm/build/relaxed.wasm';
import relaxedShared from '../../../asm/build/relaxed-shared.wasm';

type I = number;
/**
 * Every kernel ends with (part, parts): it computes share `part` of `parts` equal shares of its outputs
 * (asm/common.ts `share`); the pool hands the parts of a call to whichever threads are free.
 */
export interface Kernels {
  heapBase(): number;
  fill(out: I, n: I, value: number, tid: I, nt: I): void;
  unary(op: I, x: I, out: I, n: I, a: number, b: number, tid: I, nt: I): void;
  binary(op: I, a: I, b: I, out: I, n: I, desc: I, scratch: I, tid: I, nt: I): void;
  where(c: I, a: I, b: I, out: I, n: I, desc: I, scratch: I, tid: I, nt: I): void;
  copy(src: I, srcOffset: I, dst: I, dstOffset: I, n: I, desc: I, scratch: I, tid: I, nt: I): void;
  reduce(op: I, x: I, out: I, outer: I, r: I, inner: I, tid: I, nt: I): void;
  argmax(x: I, out: I, outer: I, r: I, inner: I, tid: I, nt: I): void;
  gemmRows(m: I, n: I, k: I, a: I, lda: I, rows: I, c: I, ldc: I, accumulate: I, tid: I, nt: I): void;
  gemmFrame(m: I, r: I, rowLen: I, k: I, a: I, lda: I, rows: I, c: I, ldc: I, planeRows: I, bRow: I, bPlane: I, tid: I, nt: I): void;
  gemmDot(m: I, j: I, a: I, lda: I, rows: I, c: I, ldc: I, count: I, chunks: I, partials: I, tid: I, nt: I): void;
  sumChunks(m: I, j: I, chunks: I, partials: I, c: I, ldc: I, tid: I, nt: I): void;
  window3d(src: I, srcCS: I, sD: I, sH: I, sW: I, dst: I, dstCS: I, dD: I, dH: I, dW: I,
           oz: I, oy: I, ox: I, c: I, tid: I, nt: I): void;
  windowCopies(src: I, srcCS: I, sD: I, sH: I, sW: I, dst: I, dstCS: I, copyVol: I, dD: I, dH: I, dW: I,
               oz: I, oy: I, ox: I, hCopies: I, wCopies: I, stepY: I, stepX: I, c: I, tid: I, nt: I): void;
  im2col(x: I, geom: I, col: I, pitch: I, tid: I, nt: I): void;
  col2im(col: I, geom: I, pitch: I, dx: I, tid: I, nt: I): void;
  winoInput(src: I, srcCS: I, hf: I, wf: I, c: I, row0: I, nr: I, tH: I, tW: I, u: I, ld: I, fStride: I, scratch: I, tid: I, nt: I): void;
  winoWeight(w: I, m: I, k: I, mStride: I, kStride: I, flip: I, v: I, fStride: I, scratch: I, tid: I, nt: I): void;
  winoGradOutput(src: I, srcCS: I, hf: I, wf: I, c: I, row0: I, nr: I, tH: I, tW: I, d: I, ld: I, fStride: I, tid: I, nt: I): void;
  winoDot(m: I, k: I, t: I, ld: I, d: I, dStride: I, u: I, uStride: I, e: I, eStride: I, accumulate: I, tid: I, nt: I): void;
  winoGradDirect(m: I, k: I, t: I, ld: I, d: I, dStride: I, ut: I, utStride: I, dw: I, scratch: I, tid: I, nt: I): void;
  winoTransposeU(u: I, uStride: I, k: I, t: I, ld: I, ut: I, utStride: I, tid: I, nt: I): void;
  winoGradBlocks(src: I, srcCS: I, srcNS: I, hf: I, wf: I, gd: I, gCS: I, gNS: I, k: I, m: I, n: I, tD: I, tH: I, tW: I,
                 r: I, g: I, e: I, eStride: I, eGroup: I, slots: I, slotFloats: I, ld: I, uF: I, dF: I, flags: I, nSlots: I,
                 tid: I, nt: I): void;
  winoWeightGrad(v: I, fStride: I, g: I, eGroup: I, m: I, k: I, dw: I, scratch: I, tid: I, nt: I): void;
  winoConv(src: I, srcCS: I, srcNS: I, hf: I, wf: I, k: I, m: I, n: I, tD: I, tH: I, tW: I, r: I, v: I, vStride: I, dst: I,
           dstCS: I, dstNS: I, oD: I, oH: I, oW: I, slots: I, slotFloats: I, ld: I, uF: I, cF: I, flags: I, nSlots: I,
           tid: I, nt: I): void;
  winoProduct(v: I, vStride: I, k: I, m: I, u: I, uStride: I, ld: I, n: I, c: I, cStride: I, tid: I, nt: I): void;
  winoOutput(c: I, cStride: I, ld: I, m: I, n: I, tD: I, tH: I, tW: I, dst: I, dstCS: I, dstNS: I, oD: I, oH: I, oW: I,
             scratch: I, tid: I, nt: I): void;
  channelMoments(x: I, stats: I, n: I, c: I, vol: I, tid: I, nt: I): void;
  channelAffine(x: I, scale: I, shift: I, residual: I, out: I, n: I, c: I, vol: I, relu: I, tid: I, nt: I): void;
  channelAffineBackward(gy: I, x: I, scale: I, shift: I, sums: I, n: I, c: I, vol: I, relu: I, tid: I, nt: I): void;
  channelAffineBackwardInput(gy: I, x: I, scale: I, shift: I, a: I, b: I, gx: I, n: I, c: I, vol: I, relu: I, tid: I, nt: I): void;
  gemmGather(m: I, n: I, k: I, a: I, aRow: I, aCol: I, rows: I, c: I, cRow: I, cCol: I, tid: I, nt: I): void;
  flipTaps(w: I, cout: I, cin: I, taps: I, dst: I, tid: I, nt: I): void;
  gatherCols(src: I, chanStride: I, c: I, tapOff: I, taps: I, posOff: I, l: I, col: I, transposed: I, tid: I, nt: I): void;
  scatterCols(col: I, transposed: I, c: I, tapOff: I, taps: I, posOff: I, l: I, dst: I, chanStride: I, tid: I, nt: I): void;
  patchConv(x: I, w: I, y: I, n: I, c: I, m: I, inD: I, inH: I, inW: I, oD: I, oH: I, oW: I, rows: I, slots: I,
            tid: I, nt: I): void;
  packRows4(a: I, m: I, k: I, dst: I, tid: I, nt: I): void;
  gemmGatherChannels(m: I, a: I, c: I, t: I, rowStride: I, cStride: I, tStart: I, tStep: I, slots: I, src: I, start: I, kOff: I,
                     srcOff: I, groups: I, nGroups: I, l: I, out: I, cRow: I, cCol: I, tid: I, nt: I): void;
  patchConvInput(dy: I, wT: I, dx: I, n: I, c: I, m: I, inD: I, inH: I, inW: I, oD: I, oH: I, oW: I, slots: I,
                 tid: I, nt: I): void;
  patchConvWeight(x: I, dy: I, dw: I, n: I, c: I, m: I, inD: I, inH: I, inW: I, oD: I, oH: I, oW: I, chunkRows: I, slots: I,
                  tid: I, nt: I): void;
  patchConvWeightChunks(x: I, dy: I, partials: I, n: I, c: I, m: I, inD: I, inH: I, inW: I, oD: I, oH: I, oW: I, chunkRows: I,
                        slots: I, tid: I, nt: I): void;
}

export type KernelName = Exclude<keyof Kernels, 'heapBase'>;
export const kernelNames: KernelName[] = ['fill', 'unary', 'binary', 'where', 'copy', 'reduce', 'argmax',
  'gemmRows', 'gemmFrame', 'gemmDot', 'sumChunks', 'window3d', 'windowCopies', 'im2col', 'col2im', 'winoInput', 'winoWeight', 'winoConv',
  'winoProduct', 'winoOutput', 'winoGradOutput', 'winoDot', 'winoGradDirect', 'winoTransposeU', 'winoGradBlocks', 'winoWeightGrad', 'channelMoments',
  'channelAffine', 'channelAffineBackward', 'channelAffineBackwardInput', 'flipTaps', 'gatherCols', 'scatterCols', 'gemmGather', 'patchConv',
  'packRows4', 'gemmGatherChannels', 'patchConvInput', 'patchConvWeight', 'patchConvWeightChunks'];

export interface CompiledKernels {
  module: WebAssembly.Module;
  relaxed: boolean;
}

/**
 * Node 20's V8 implements relaxed SIMD behind a flag (on by default from Node 22); fused multiply-add
 * nearly doubles the convolutions' speed, so the flag is turned on unless VOXGRAD_NO_RELAXED_SIMD is set.
 */
async function enableRelaxedSimdInNode() {
  const process = (globalThis as any).process;
  if (typeof process?.versions?.node !== 'string' || process.env.VOXGRAD_NO_RELAXED_SIMD) return;
  const v8 = await import('node:v8');
  v8.setFlagsFromString('--experimental-wasm-relaxed-simd');
}

/** Compiles the best variant this runtime accepts; `shared` selects the build that imports shared memory. */
export async function compileKernels(shared: boolean): Promise<CompiledKernels> {
  // esbuild's binary loader yields Uint8Arrays over plain ArrayBuffers
  const [fast, plain] = (shared ? [relaxedShared, simdShared] : [relaxed, simd]) as Uint8Array<ArrayBuffer>[];
  if (!WebAssembly.validate(fast)) await enableRelaxedSimdInNode();
  const noRelaxed = (globalThis as any).process?.env?.VOXGRAD_NO_RELAXED_SIMD;
  if (!noRelaxed && WebAssembly.validate(fast)) return { module: await WebAssembly.compile(fast), relaxed: true };
  if (!WebAssembly.validate(plain)) {
    throw new Error('voxgrad wasm backend (engine/backends/wasm/kernels.ts): this runtime lacks WebAssembly SIMD ' +
      `${shared ? 'or threads ' : ''}(Node ≥ 20, Chrome ≥ 91, Firefox ≥ 89, Safari ≥ 16.4 have them)`);
  }
  return { module: await WebAssembly.compile(plain), relaxed: false };
}

export function instantiate(module: WebAssembly.Module, memory: WebAssembly.Memory): Kernels {
  const abort = () => { throw new Error('voxgrad wasm backend: a kernel aborted'); };
  return new WebAssembly.Instance(module, { env: { memory, abort } }).exports as unknown as Kernels;
}
