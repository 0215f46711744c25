// Every primitive of every registered backend against the ref backend: fill, strided copy, unary,
// broadcasting binary, where, reductions, matmul, every conv route (forward, input and weight gradient,
// transposed conv, bias epilogues), the fused normalisation kernels; then that the conv cases reached
// each route of the backend. The cases, each with its backends and tolerances, are in
// test/helpers/conformance-cases.ts; what is particular to a backend stays in its own suite.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import * as vg from '../index.ts';
import { testBackends, useBackend } from './helpers/backends.ts';
import { assertClose } from './helpers/compare.ts';
import { checkConvCases, contiguous, count, Harness } from './helpers/conformance.ts';
import {
  binaryCases, channelShapes, channelTolerances, convCases, copyTrials, copyViews, fillSizes, matmulCases, reduceCases,
  specialReduceCases, unaryCases, whereCases, type Tol,
} from './helpers/conformance-cases.ts';
import { conformanceTargets, convPasses } from './helpers/conformance-targets.ts';

/** Strides of `shape` broadcast to `out`, aligned on the right (a stride of 0 on each size-1 or missing axis). */
function broadcastStrides(shape: number[], out: number[]) {
  const full = [...new Array(out.length - shape.length).fill(1), ...shape];
  return contiguous(full).map((s, d) => (full[d] === 1 && out[d] !== 1 ? 0 : s));
}

/** The cases of `cases` that `backend` runs, each with its tolerance there. */
const on = <C extends { tol: Tol }>(backend: string, cases: C[]): [C, number][] =>
  cases.filter((c) => c.tol[backend] !== undefined).map((c) => [c, c.tol[backend]!]);

for (const { name } of testBackends().filter((b) => b.name !== 'ref')) {
  const s = suite(`conformance vs ref [${name}]`);
  const target = conformanceTargets[name];
  let h: Harness | null = null;
  let routesBefore = new Map<string, number>();
  s.before(async () => {
    if (!(await useBackend(name))) return;
    h = new Harness(vg.getBackend(), target?.seed ?? 1);
    if (target) routesBefore = new Map(target.routeCounts(h.backend));
  });

  s('the backend has a conformance target and cases', () => {
    assert.ok(target, `no entry for ${name} in test/helpers/conformance-targets.ts`);
    assert.ok(on(name, unaryCases).length > 0, `no conformance cases name ${name}`);
  });

  s('fill, and write/read round trip', async () => {
    if (!h) return;
    for (const { n, tol, roundTrip } of fillSizes) {
      if (tol[name] !== undefined) {
        await h.same(n, tol[name]!, `fill ${n}`, (b, _i, out) => b.fill(out, 2.5), [], h.randoms(n));
      }
      if (roundTrip?.[name] !== undefined) {
        const data = h.randoms(n), buf = h.backend.alloc(n);
        h.backend.write(buf, data);
        assert.equal(await h.backend.read(buf), data, `round trip ${n}`);
        h.backend.free(buf);
      }
    }
  });

  s('strided copy: permutations, slices, flips, repeats, offsets, strided outputs', async () => {
    if (!h) return;
    const src = h.randoms(2 * 3 * 4 * 5);
    for (const [v, tol] of on(name, copyViews)) {
      await h.same(v.outSize, tol, v.what, (b, i, out) => b.copy(i(0), v.src, out, v.out, v.shape), [src], -7);
    }
    for (const [{ trials }, tol] of on(name, copyTrials)) {
      for (let trial = 0; trial < trials; trial++) {
        const shape = [h.pick([1, 2, 3]), h.pick([3, 5, 8]), h.pick([1, 7, 33]), h.pick([4, 9, 130])];
        const n = count(shape);
        const perm = [0, 1, 2, 3].sort(() => h!.random() - 0.5);
        // source: a permuted and partly flipped view of a bigger buffer
        const base = contiguous(perm.map((p) => shape[p]));
        const strides = shape.map((_, d) => base[perm.indexOf(d)]);
        let offset = 5;
        for (let d = 0; d < 4; d++) {
          if (h.random() < 0.3) { offset += (shape[d] - 1) * strides[d]; strides[d] = -strides[d]; }
        }
        // destination: every other element of a twice-as-long last axis, after an offset of 3
        const out = { offset: 3, strides: contiguous(shape).map((st) => st * 2) };
        await h.same(2 * n + 3, tol, `copy ${shape} perm ${perm}`, (b, i, o) => b.copy(i(0), { offset, strides }, o, out, shape),
                     [h.randoms(n + 5)], h.randoms(2 * n + 3));
      }
    }
  });

  s('unary: every op', async () => {
    if (!h) return;
    for (const [{ op, a, b, lo, hi, trits, sizes, zeroFirst }, tol] of on(name, unaryCases)) {
      for (const n of sizes) {
        const data = trits ? h.ints(n, 3).map((v) => v - 1) : h.randoms(n, lo, hi);
        if (zeroFirst) data[0] = 0; // the edge of step, sign, relu
        await h.same(n, tol, `${op}(${a}, ${b}) n=${n}`, (be, i, out) => be.unary(op, i(0), out, a, b), [data]);
      }
    }
  });

  s('binary with broadcasting: every op', async () => {
    if (!h) return;
    for (const [c, tol] of on(name, binaryCases)) {
      const sa = broadcastStrides(c.a, c.out), sb = broadcastStrides(c.b, c.out), size = count(c.out);
      for (const op of c.ops) {
        let da: Float32Array, db: Float32Array;
        if (c.data === 'separated' && ['eq', 'ne', 'le', 'ge'].includes(op)) [da, db] = [h.ints(count(c.a), 3), h.ints(count(c.b), 3)];
        else if (c.data === 'separated') [da, db] = [h.randoms(count(c.a)), h.randoms(count(c.b), 0.5, 2)];
        else [da, db] = [h.randoms(count(c.a)), h.randoms(count(c.b))];
        if (c.data === 'repeats') for (let i = 0; i < da.length; i += 3) da[i] = db[i % db.length];
        await h.same(size, tol, `${op} [${c.a}] [${c.b}]`, (b, i, out) => b.binary(op, i(0), sa, i(1), sb, out, c.out), [da, db]);
      }
    }
  });

  s('where with three broadcast operands', async () => {
    if (!h) return;
    for (const [c, tol] of on(name, whereCases)) {
      const strides = [c.cond, c.a, c.b].map((sh) => broadcastStrides(sh, c.out));
      const cond = h.randoms(count(c.cond)).map((v) => (v > 0 ? 1 : 0));
      await h.same(count(c.out), tol, `where [${c.out}]`,
                   (b, i, out) => b.where(i(0), strides[0], i(1), strides[1], i(2), strides[2], out, c.out),
                   [cond, h.randoms(count(c.a)), h.randoms(count(c.b))]);
    }
  });

  s('reduce sum and max, argmax (the first maximum wins) over [outer, r, inner]', async () => {
    if (!h) return;
    const variants = target?.reduceVariants?.(h.backend) ?? { variants: [['', () => {}]], restore: () => {} };
    for (const [variant, apply] of variants.variants) {
      apply();
      for (const [{ shape: [outer, r, inner], range, argmaxOfData }, tol] of on(name, reduceCases)) {
        const what = `${variant ? `${variant} ` : ''}[${outer}, ${r}, ${inner}]`;
        const x = h.randoms(outer * r * inner, ...range), tied = h.ints(outer * r * inner, 5);
        for (const op of ['sum', 'max'] as const) {
          await h.same(outer * inner, tol, `${op} ${what}`, (b, i, out) => b.reduce(op, i(0), out, outer, r, inner), [x]);
        }
        if (argmaxOfData) await h.same(outer * inner, 0, `argmax ${what}`, (b, i, out) => b.argmax(i(0), out, outer, r, inner), [x]);
        await h.same(outer * inner, 0, `argmax with ties ${what}`, (b, i, out) => b.argmax(i(0), out, outer, r, inner), [tied]);
      }
    }
    variants.restore();
  });

  s('reductions carry ±inf and NaN as ref does', async () => {
    if (!h) return;
    for (const [{ op, shape, specials }, tol] of on(name, specialReduceCases)) {
      const [outer, r, inner] = shape, what = `${op} with ±inf/NaN [${shape}]`;
      const x = h.randoms(outer * r * inner);
      for (const [i, v] of specials(shape)) x[i] = v;
      const [want, got] = await h.both(outer * inner, (b, i, out) => b.reduce(op, i(0), out, outer, r, inner), [x]);
      const special = (a: Float32Array) => [...a.keys()].filter((i) => !Number.isFinite(a[i])).map((i) => [i, a[i]]);
      assert.equal(special(got), special(want), `${what}: the non-finite outputs`);
      assert.ok(special(want).length > 0, `${what}: a special value reached an output`);
      const finite = (a: Float32Array) => a.map((v) => (Number.isFinite(v) ? v : 0));
      assertClose(finite(got), finite(want), tol, `${what}: the other outputs`);
    }
  });

  s('matmul: transposes, batches, odd sizes, several tiles', async () => {
    if (!h) return;
    for (const [{ shape: [batch, m, k, n] }, tol] of on(name, matmulCases)) {
      for (const transA of [false, true]) {
        for (const transB of [false, true]) {
          await h.same(batch * m * n, tol, `matmul ${batch}×${m}×${k}×${n} tA=${transA} tB=${transB}`,
                       (b, i, out) => b.matmul(i(0), i(1), out, batch, m, k, n, transA, transB),
                       [h.randoms(batch * m * k), h.randoms(batch * k * n)]);
        }
      }
    }
  });

  s('conv3d forward, input gradient, weight gradient, transposed conv, bias epilogues', async () => {
    if (!h) return;
    await checkConvCases(h, convCases);
  });

  s('the conv cases reach every route of every pass', () => {
    if (!h || !target) return;
    const counts = target.routeCounts(h.backend);
    for (const pass of convPasses) {
      const missed = target.routeNames(pass)
        .filter((route) => (counts.get(`${pass} ${route}`) ?? 0) <= (routesBefore.get(`${pass} ${route}`) ?? 0));
      assert.equal(missed, [], `${pass}: routes no case reached`);
    }
  });

  const channels = () => channelShapes.filter((c) => c.on.includes(name)).map((c) => c.shape);
  const tols = channelTolerances[name];

  s('channelMoments: per-channel mean and biased variance, offset data', async () => {
    if (!h || !tols) return;
    for (const [n, c, vol] of channels()) {
      // a mean far from 0 tests the two-pass variance
      await h.same(2 * c, tols.moments, `channelMoments [${n}, ${c}, ${vol}]`, (b, i, out) => b.channelMoments(i(0), out, n, c, vol),
                   [h.randoms(n * c * vol, 2, 5)]);
    }
  });

  s('channelAffine: with and without ReLU and residual', async () => {
    if (!h || !tols) return;
    for (const [n, c, vol] of channels()) {
      const size = n * c * vol;
      const inputs = [h.randoms(size), h.randoms(c, -2, 2), h.randoms(c), h.randoms(size)];
      for (const relu of [false, true]) {
        for (const residual of [false, true]) {
          await h.same(size, tols.affine, `channelAffine [${n}, ${c}, ${vol}] relu ${relu} residual ${residual}`,
                       (b, i, out) => b.channelAffine(i(0), i(1), i(2), residual ? i(3) : null, out, n, c, vol, relu), inputs);
        }
      }
    }
  });

  s('channelAffineBackward and channelAffineBackwardInput: per-channel sums and the input gradient', async () => {
    if (!h || !tols) return;
    for (const [n, c, vol] of channels()) {
      const size = n * c * vol;
      const inputs = [h.randoms(size), h.randoms(size), h.randoms(c, -2, 2), h.randoms(c), h.randoms(c), h.randoms(c)];
      for (const relu of [false, true]) {
        const what = `[${n}, ${c}, ${vol}] relu ${relu}`;
        await h.same(2 * c, tols.backward, `channelAffineBackward sums ${what}`,
                     (b, i, out) => b.channelAffineBackward(i(0), i(1), i(2), i(3), out, n, c, vol, relu), inputs);
        await h.same(size, tols.backward, `channelAffineBackwardInput ${what}`,
                     (b, i, out) => b.channelAffineBackwardInput(i(0), i(1), i(2), i(3), i(4), i(5), out, n, c, vol, relu), inputs);
      }
    }
  });

  s.run();
}
