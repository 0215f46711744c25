// The conformance harness: the same data on the ref backend and on a backend under test, an op run on
// both into fresh outputs, the outputs compared (test/conformance.test.ts; the backend suites reuse it).
import * as vg from '../../index.ts';
import type { Backend, BackendBuffer, ConvGeometry } from '../../engine/backend.ts';
import { RefBackend } from '../../engine/backends/ref.ts';
import { assertClose } from './compare.ts';
import { conformanceTargets, type ConvPass } from './conformance-targets.ts';

export const ref = new RefBackend('ref', Float32Array);

/** Runs op on one backend: its inputs by index, its output buffer. */
export type Op = (b: Backend, inputs: (i: number) => BackendBuffer, out: BackendBuffer) => void;

export const count = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);
export const contiguous = (shape: readonly number[]) => {
  const s: number[] = [];
  for (let d = shape.length - 1, acc = 1; d >= 0; d--) { s[d] = acc; acc *= shape[d]; }
  return s;
};

export class Harness {
  private readonly gen: vg.Generator;

  constructor(readonly backend: Backend, seed: number) {
    this.gen = new vg.Generator(seed);
  }

  random(): number {
    return this.gen.uniform();
  }

  randoms(n: number, lo = -1, hi = 1): Float32Array {
    return Float32Array.from({ length: n }, () => lo + (hi - lo) * this.gen.uniform());
  }

  /** n integers in [0, k). */
  ints(n: number, k: number): Float32Array {
    return Float32Array.from({ length: n }, () => Math.floor(k * this.gen.uniform()));
  }

  pick<T>(xs: readonly T[]): T {
    return xs[Math.floor(this.gen.uniform() * xs.length)];
  }

  /** The same data on ref and on the backend under test. */
  pair(data: Float32Array): [BackendBuffer, BackendBuffer] {
    const r = ref.alloc(data.length), b = this.backend.alloc(data.length);
    ref.write(r, data);
    this.backend.write(b, data);
    return [r, b];
  }

  /**
   * Runs op on both backends into fresh outputs of `size` floats (filled with `out` first, or holding
   * its data) and gives back [ref's output, the backend's output].
   */
  async both(size: number, op: Op, inputs: Float32Array[], out: number | Float32Array = 0): Promise<[Float32Array, Float32Array]> {
    const bufs = inputs.map((d) => this.pair(d));
    const outs = [ref, this.backend].map((b, k) => {
      const o = b.alloc(size);
      if (typeof out === 'number') b.fill(o, out);
      else b.write(o, out);
      op(b, (i) => bufs[i][k], o);
      return o;
    });
    const result: [Float32Array, Float32Array] = [await ref.read(outs[0]), await this.backend.read(outs[1])];
    for (const [r, b] of bufs) { ref.free(r); this.backend.free(b); }
    ref.free(outs[0]);
    this.backend.free(outs[1]);
    return result;
  }

  /** both(), then the backend's output within `tol` (relative) of ref's. */
  async same(size: number, tol: number, what: string, op: Op, inputs: Float32Array[], out: number | Float32Array = 0) {
    const [want, got] = await this.both(size, op, inputs, out);
    assertClose(got, want, tol, what);
  }
}

export const describeConv = (g: ConvGeometry) =>
  `n${g.n} ${g.cin}->${g.cout} in[${g.in}] k[${g.kernel}] s[${g.stride}] p[${g.padding}] d[${g.dilation}]`;

/** The conv passes a case can check; a case's tolerance table names those it runs on each backend. */
export type ConvCheck = 'forward' | 'forward + bias' | 'input gradient' | 'transposed conv + bias' | 'weight gradient';
export type ConvTolerances = Partial<Record<ConvCheck, number>>;

export interface ConvCase {
  g: ConvGeometry;
  /** What the case is for, where the geometry alone does not say. */
  what?: string;
  /** A route the case forces (through the backend's conformance target) rather than the one chosen. */
  force?: string;
  /** Per backend: the checks it runs, each with its tolerance. A backend not named does not run the case. */
  tol: Partial<Record<string, ConvTolerances>>;
}

const passOf: Record<ConvCheck, ConvPass> = {
  'forward': 'forward', 'forward + bias': 'forward', 'input gradient': 'inputGrad', 'transposed conv + bias': 'inputGrad',
  'weight gradient': 'weightGrad',
};

/** Each case's conv checks on h's backend against ref, each with fresh buffers. */
export async function checkConvCases(h: Harness, cases: readonly ConvCase[], label = '') {
  const name = h.backend.name;
  for (const c of cases) {
    const tols = c.tol[name];
    if (!tols) continue;
    const { g } = c;
    const xs = g.n * g.cin * count(g.in), ws = g.cout * g.cin * count(g.kernel), ys = g.n * g.cout * count(g.out);
    const x = h.randoms(xs), w = h.randoms(ws), dy = h.randoms(ys);
    const forced = (check: ConvCheck, fallback: Op): Op => {
      if (!c.force) return fallback;
      const force = conformanceTargets[name]?.forceConvRoute;
      if (!force) throw new Error(`${name} cannot force the conv route ${c.force}`);
      return (b, i, out) => (b === ref ? fallback(b, i, out) : force(h.backend, passOf[check], c.force!, i(0), i(1), out, g));
    };
    const runs: Record<ConvCheck, () => [number, Op, Float32Array[]]> = {
      'forward': () => [ys, (b, i, out) => b.conv3d(i(0), i(1), out, g), [x, w]],
      'forward + bias': () => [ys, (b, i, out) => b.conv3d(i(0), i(1), out, g, i(2)), [x, w, h.randoms(g.cout)]],
      'input gradient': () => [xs, (b, i, out) => b.conv3dBackwardInput(i(0), i(1), out, g), [dy, w]],
      'transposed conv + bias': () => [xs, (b, i, out) => b.conv3dBackwardInput(i(0), i(1), out, g, i(2)), [dy, w, h.randoms(g.cin)]],
      'weight gradient': () => [ws, (b, i, out) => b.conv3dBackwardWeight(i(0), i(1), out, g), [x, dy]],
    };
    for (const check of Object.keys(tols) as ConvCheck[]) {
      const [size, op, inputs] = runs[check]();
      const what = `${label}${c.force ? `${c.force} ` : ''}${check} ${describeConv(g)}${c.what ? ` (${c.what})` : ''}`;
      await h.same(size, tols[check]!, what, forced(check, op), inputs);
    }
  }
}
