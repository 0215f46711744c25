// The compiled AssemblyScript module (asm/, built by build.mjs in four variants) and the signatures of
// its exports. Relaxed SIMD (fused multiply-add) is used where the runtime validates it; shared memory
// where threads can run.
import simd from '../../../asm/build/simd.wasm';
import simdShared from '../../../asm/build/simd-shared.wasm';
import relaxed from '../../../asm/build/relaxed.wasm';
import relaxedShared from '../../../asm/build/relaxed-shared.wasm';

/**
 * Every kernel of the module with the names of its arguments, the one list of them: the calls
 * (Device.call), the pool's kernel indices and the exports' types all come from it. Each kernel's
 * wasm signature adds (part, parts): it computes share `part` of `parts` equal shares of its outputs
 * (asm/common.ts `share`); the pool hands the parts of a call to whichever threads are free.
 * asm/index.ts exports the same kernels; test/wasm.test.ts checks that the two agree.
 */
export const kernelParams = {
  // asm/elementwise.ts
  fill: ['out', 'n', 'value'],
  unary: ['op', 'x', 'out', 'n', 'a', 'b'],
  binary: ['op', 'a', 'b', 'out', 'n', 'desc', 'scratch'],
  where: ['c', 'a', 'b', 'out', 'n', 'desc', 'scratch'],
  copy: ['src', 'srcOffset', 'dst', 'dstOffset', 'n', 'desc', 'scratch'],
  // asm/reduce.ts
  reduce: ['op', 'x', 'out', 'outer', 'r', 'inner'],
  argmax: ['x', 'out', 'outer', 'r', 'inner'],
  // asm/norm.ts
  channelMoments: ['x', 'stats', 'n', 'c', 'vol'],
  channelAffine: ['x', 'scale', 'shift', 'residual', 'out', 'n', 'c', 'vol', 'relu'],
  channelAffineBackward: ['gy', 'x', 'scale', 'shift', 'sums', 'n', 'c', 'vol', 'relu'],
  channelAffineBackwardInput: ['gy', 'x', 'scale', 'shift', 'a', 'b', 'gx', 'n', 'c', 'vol', 'relu'],
  // asm/gemm.ts
  gemmRows: ['m', 'n', 'k', 'a', 'lda', 'rows', 'c', 'ldc', 'accumulate'],
  gemmFrame: ['m', 'r', 'rowLen', 'k', 'a', 'lda', 'rows', 'c', 'ldc', 'planeRows', 'bRow', 'bPlane'],
  gemmDot: ['m', 'j', 'a', 'lda', 'rows', 'c', 'ldc', 'count', 'chunks', 'partials'],
  sumChunks: ['m', 'j', 'chunks', 'partials', 'c', 'ldc'],
  gemmGather: ['m', 'n', 'k', 'a', 'aRow', 'aCol', 'rows', 'c', 'cRow', 'cCol'],
  packRows4: ['a', 'm', 'k', 'dst'],
  patchConv: ['x', 'w', 'y', 'n', 'c', 'm', 'inD', 'inH', 'inW', 'oD', 'oH', 'oW', 'rows', 'slots'],
  patchConvInput: ['dy', 'wT', 'dx', 'n', 'c', 'm', 'inD', 'inH', 'inW', 'oD', 'oH', 'oW', 'slots'],
  patchConvWeight: ['x', 'dy', 'dw', 'n', 'c', 'm', 'inD', 'inH', 'inW', 'oD', 'oH', 'oW', 'chunkRows', 'slots'],
  patchConvWeightChunks: ['x', 'dy', 'partials', 'n', 'c', 'm', 'inD', 'inH', 'inW', 'oD', 'oH', 'oW', 'chunkRows', 'slots'],
  // asm/winograd.ts
  winoInput: ['src', 'srcCS', 'hf', 'wf', 'c', 'row0', 'nr', 'tH', 'tW', 'u', 'ld', 'fStride', 'scratch'],
  winoWeight: ['w', 'm', 'k', 'mStride', 'kStride', 'flip', 'v', 'fStride', 'scratch'],
  winoConv: ['src', 'srcCS', 'srcNS', 'hf', 'wf', 'k', 'm', 'n', 'tD', 'tH', 'tW', 'r', 'v', 'vStride', 'dst', 'dstCS', 'dstNS', 'oD', 'oH', 'oW', 'slots', 'slotFloats', 'ld', 'uF', 'cF', 'flags', 'nSlots'],
  winoProduct: ['v', 'vStride', 'k', 'm', 'u', 'uStride', 'ld', 'n', 'c', 'cStride'],
  winoOutput: ['c', 'cStride', 'ld', 'm', 'n', 'tD', 'tH', 'tW', 'dst', 'dstCS', 'dstNS', 'oD', 'oH', 'oW', 'scratch'],
  winoGradOutput: ['src', 'srcCS', 'hf', 'wf', 'c', 'row0', 'nr', 'tH', 'tW', 'd', 'ld', 'fStride'],
  winoDot: ['m', 'k', 't', 'ld', 'd', 'dStride', 'u', 'uStride', 'e', 'eStride', 'accumulate'],
  winoGradDirect: ['m', 'k', 't', 'ld', 'd', 'dStride', 'ut', 'utStride', 'dw', 'scratch'],
  winoTransposeU: ['u', 'uStride', 'k', 't', 'ld', 'ut', 'utStride'],
  winoGradBlocks: ['src', 'srcCS', 'srcNS', 'hf', 'wf', 'gd', 'gCS', 'gNS', 'k', 'm', 'n', 'tD', 'tH', 'tW', 'r', 'g', 'e', 'eStride', 'eGroup', 'slots', 'slotFloats', 'ld', 'uF', 'dF', 'flags', 'nSlots'],
  winoWeightGrad: ['v', 'fStride', 'g', 'eGroup', 'm', 'k', 'dw', 'scratch'],
  // asm/channel-tiles.ts
  gemmGatherChannels: ['m', 'a', 'c', 't', 'rowStride', 'cStride', 'tStart', 'tStep', 'slots', 'src', 'start', 'kOff', 'srcOff', 'groups', 'nGroups', 'l', 'out', 'cRow', 'cCol'],
  // asm/conv.ts
  window3d: ['src', 'srcCS', 'sD', 'sH', 'sW', 'dst', 'dstCS', 'dD', 'dH', 'dW', 'oz', 'oy', 'ox', 'c'],
  windowCopies: ['src', 'srcCS', 'sD', 'sH', 'sW', 'dst', 'dstCS', 'copyVol', 'dD', 'dH', 'dW', 'oz', 'oy', 'ox', 'hCopies', 'wCopies', 'stepY', 'stepX', 'c'],
  im2col: ['x', 'geom', 'col', 'pitch'],
  col2im: ['col', 'geom', 'pitch', 'dx'],
  flipTaps: ['w', 'cout', 'cin', 'taps', 'dst'],
  gatherCols: ['src', 'chanStride', 'c', 'tapOff', 'taps', 'posOff', 'l', 'col', 'transposed'],
  scatterCols: ['col', 'transposed', 'c', 'tapOff', 'taps', 'posOff', 'l', 'dst', 'chanStride'],
} as const;

export type KernelName = keyof typeof kernelParams;
type Numbers<Names> = { -readonly [P in keyof Names]: number };
/**
 * A kernel's arguments before (part, parts): as many numbers as it has parameters (and, for the code
 * that passes them on without knowing which kernel it runs, an array of numbers).
 */
export type KernelArgs<K extends KernelName> = Numbers<(typeof kernelParams)[K]> & number[];
export type Kernels = { [K in KernelName]: (...args: [...KernelArgs<K>, part: number, parts: number]) => void } & {
  heapBase(): number;
};
export const kernelNames = Object.keys(kernelParams) as KernelName[];

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
