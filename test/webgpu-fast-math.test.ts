// The WebGPU kernels' NaN handling and the GEMM's Kahan compensation, written so that a driver
// compiling with fast math cannot remove them (shaders/nan.wgsl, gemm_core.wgsl's opaque()).
// SwiftShader compiles strictly, so the probes check the behaviour such a driver must keep (NaN of
// any payload and ±inf through ReLU, clamp, where, max and argmax on every reduce path, equal to the
// ref backend; a long-K GEMM near its float64 answer), and the source check fails on the patterns a
// fast-math compiler may fold away.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as vg from '../index.ts';
import type { Backend } from '../engine/backend.ts';
import type { WebGPUBackend } from '../engine/backends/webgpu/backend.ts';
import { useBackend } from './helpers/backends.ts';
import { repoRoot } from './helpers/fixtures.ts';

const s = suite('webgpu fast math');
let gpu: WebGPUBackend, ref: Backend;
let available = false;
s.before(async () => {
  await vg.setBackend('ref');
  ref = vg.getBackend();
  available = await useBackend('webgpu');
  if (available) gpu = vg.getBackend() as WebGPUBackend;
});

// quiet, signalling, negative and all-ones-mantissa NaNs
const NAN_PAYLOADS = [0x7fc00000, 0x7f800001, 0xffc00000, 0x7fffffff, 0xffffffff, 0x7fa5a5a5];
const bitsOf = (v: number) => new Uint32Array(Float32Array.of(v).buffer)[0];
const fromBits = (bits: number[]) => new Float32Array(Uint32Array.from(bits).buffer);
const isNanBits = (b: number) => (b & 0x7fffffff) > 0x7f800000;
const nans = (n: number) => Array.from({ length: n }, (_, i) => NAN_PAYLOADS[i % NAN_PAYLOADS.length]);

/** Runs one primitive on `be` over `inputs` and returns the output's bits. */
async function run(be: Backend, inputs: Float32Array[], size: number,
                   op: (bufs: ReturnType<Backend['alloc']>[], out: ReturnType<Backend['alloc']>) => void) {
  const bufs = inputs.map((x) => { const b = be.alloc(x.length); be.write(b, x); return b; });
  const out = be.alloc(size);
  op(bufs, out);
  const got = await be.read(out);
  for (const b of [...bufs, out]) be.free(b);
  return new Uint32Array(got.buffer.slice(got.byteOffset, got.byteOffset + got.byteLength));
}

/** Output bits equal ref's, any NaN standing for any other (payloads are not kept across backends). */
function sameAsRef(got: Uint32Array, want: Uint32Array, what: string) {
  assert.is(got.length, want.length, what);
  for (let i = 0; i < got.length; i++) {
    const ok = isNanBits(want[i]) ? isNanBits(got[i]) : got[i] === want[i];
    if (!ok) assert.unreachable(`${what} [${i}]: 0x${got[i].toString(16)}, ref 0x${want[i].toString(16)}`);
  }
}

s('source: no shader tests NaN by self-comparison, and the GEMM compensation goes through opaque()', () => {
  const dir = join(repoRoot, 'shaders');
  for (const f of readdirSync(dir).filter((n) => n.endsWith('.wgsl'))) {
    const src = readFileSync(join(dir, f), 'utf8').replace(/\/\/.*$/gm, '');
    const self = src.match(/([\w.]+(?:\[[^\]]*\])?)\s*!=\s*\1(?![\w.[])/);
    assert.not.ok(self, `${f}: ${self?.[0]} folds to false under fast math; use is_nan() (nan.wgsl)`);
  }
  const gemm = readFileSync(join(dir, 'gemm_core.wgsl'), 'utf8');
  for (const line of ['let y = opaque(part[e] - lost[e]);', 'let t = opaque(acc[e] + y);', 'lost[e] = opaque(t - acc[e]) - y;']) {
    assert.ok(gemm.includes(line), `gemm_core.wgsl: ${line}`);
  }
});

s('relu, clamp and where keep NaN of every payload, and ±inf, as ref does', async () => {
  if (!available) return;
  const special = [...NAN_PAYLOADS, bitsOf(Infinity), bitsOf(-Infinity), bitsOf(-0), 0, bitsOf(-2), bitsOf(3)];
  const x = fromBits(Array.from({ length: 3 * special.length }, (_, i) => special[i % special.length]));
  const n = x.length;
  for (const what of ['relu', 'clamp'] as const) {
    const f = (be: Backend) => run(be, [x], n, ([a], out) => be.unary(what, a, out, -1, 1));
    sameAsRef(await f(gpu), await f(ref), what);
  }
  const relu = await run(gpu, [x], n, ([a], out) => gpu.unary('relu', a, out, 0, 0));
  for (let i = 0; i < n; i++) if (isNanBits(bitsOf(x[i]))) assert.ok(isNanBits(relu[i]), `relu of NaN 0x${bitsOf(x[i]).toString(16)}`);
  const a = new Float32Array(n).fill(1), b = new Float32Array(n).fill(2);
  const where = (be: Backend) => run(be, [x, a, b], n, ([c, aa, bb], out) => be.where(c, [1], aa, [1], bb, [1], out, [n]));
  sameAsRef(await where(gpu), await where(ref), 'where with NaN, ±inf and ±0 conditions');
});

/** [outer, r, inner] cases with NaN at the front, middle and back, ±inf, ties and plain rows. */
function reduceInput(outer: number, r: number, inner: number) {
  const x = new Float32Array(outer * r * inner);
  const bits = new Uint32Array(x.buffer);
  let seed = 7;
  const rand = () => (seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32;
  for (let i = 0; i < x.length; i++) x[i] = Math.round(rand() * 200 - 100) / 4;
  const payload = nans(outer * inner * 3);
  for (let p = 0; p < outer; p++) {
    for (let q = 0; q < inner; q++) {
      const col = p * inner + q, at = (k: number) => (p * r + k) * inner + q;
      switch (col % 8) {
        case 0: bits[at(0)] = payload[3 * col]; break; // NaN first
        case 1: bits[at(r >> 1)] = payload[3 * col]; break;
        case 2: bits[at(r - 1)] = payload[3 * col]; bits[at(1)] = payload[3 * col + 1]; break;
        case 3: x[at(r >> 2)] = Infinity; x[at(r - 2)] = Infinity; break; // tied +inf
        case 4: for (let k = 0; k < r; k++) x[at(k)] = -Infinity; break;
        case 5: for (let k = 0; k < r; k++) bits[at(k)] = payload[(3 * col + k) % payload.length]; break; // all NaN
        case 6: x[at(0)] = -Infinity; bits[at(r - 1)] = payload[3 * col + 2]; break;
        default: break;
      }
    }
  }
  return x;
}

// reduceRows (one thread per column), and the tree with and without subgroup operations
const paths: [string, number, number, number, boolean][] = [
  ['one thread per column', 2, 40, 8, false],
  ['workgroup tree', 2, 5000, 8, false],
  ['workgroup tree, two passes', 1, 40000, 8, false],
  ['subgroup tree', 2, 5000, 8, true],
  ['subgroup tree, two passes', 1, 40000, 8, true],
];

s('max and argmax with NaN payloads and ±inf equal ref on every reduce path', async () => {
  if (!available) return;
  const had = gpu.subgroupReduce;
  try {
    for (const [path, outer, r, inner, subgroups] of paths) {
      if (subgroups && !gpu.features.includes('subgroups')) {
        console.warn(`\n  no subgroups on this adapter: ${path} not run`);
        continue;
      }
      gpu.subgroupReduce = subgroups;
      const x = reduceInput(outer, r, inner), n = outer * inner;
      const max = (be: Backend) => run(be, [x], n, ([a], out) => be.reduce('max', a, out, outer, r, inner));
      const want = await max(ref);
      sameAsRef(await max(gpu), want, `max, ${path}`);
      for (let c = 0; c < n; c++) if ([0, 1, 2, 5, 6].includes(c % 8)) assert.ok(isNanBits(want[c]), `ref max of column ${c} is NaN`);
      const argmax = (be: Backend) => run(be, [x], n, ([a], out) => be.argmax(a, out, outer, r, inner));
      sameAsRef(await argmax(gpu), await argmax(ref), `argmax, ${path}`);
    }
  } finally {
    gpu.subgroupReduce = had;
  }
});

s('a long-K GEMM keeps the float64 answer that an uncompensated float32 sum misses', async () => {
  if (!available) return;
  const m = 2, n = 3, k = 65536, BK = 16;
  let seed = 3;
  const rand = () => (seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32;
  // values just above 1: every 16-term slice adds 16 + ~6e-4 to a total that grows to 65536, whose
  // float32 spacing from 2^14 on (≥ 2^-9) rounds the slices' fractions away unless they are carried
  const a = Float32Array.from({ length: m * k }, () => 1 + rand() * 2 ** -14);
  const b = Float32Array.from({ length: k * n }, () => 1 + rand() * 2 ** -16);
  const got = new Float32Array((await run(gpu, [a, b], m * n, ([aa, bb], out) => gpu.matmul(aa, bb, out, 1, m, k, n, false, false))).buffer);
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let exact = 0, plain = 0;
      for (let k0 = 0; k0 < k; k0 += BK) {
        let part = 0;
        for (let kk = k0; kk < k0 + BK; kk++) {
          exact += a[i * k + kk] * b[kk * n + j];
          part = Math.fround(part + Math.fround(a[i * k + kk] * b[kk * n + j]));
        }
        plain = Math.fround(plain + part);
      }
      const err = Math.abs(got[i * n + j] - exact) / exact, plainErr = Math.abs(plain - exact) / exact;
      assert.ok(plainErr > 1e-5, `the case defeats an uncompensated sum (${plainErr})`);
      assert.ok(err < 1e-6 && err < plainErr / 50, `C[${i},${j}]: relative error ${err}, uncompensated ${plainErr}`);
    }
  }
});

s.after(() => vg.disposeBackends());
s.run();
