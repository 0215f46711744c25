// Finite-difference check of every op's gradient: central differences along a random direction,
// computed in float64 (backend ref64) so that the check is sharp (1e-6), against our own backward.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as vg from '../index.ts';
import type { Tensor } from '../index.ts';
import type { RefBackend } from '../engine/backends/ref.ts';
import { decodeF32, loadOpCases } from './helpers/fixtures.ts';
import { runOp } from './helpers/op-table.ts';

const exact = (t: Tensor) => (t.backend as RefBackend).readExact(t.buf);
const eps = 2 ** -20; // exactly representable, so x ± eps·v is exact in float64

test.before(async () => { await vg.setBackend('ref64'); });

for (const c of loadOpCases().filter((c) => c.grads)) {
  test(`finite differences: ${c.name}`, () => {
    const gen = new vg.Generator(7);
    vg.scope(() => {
      const xs = c.inputs.map((i) => vg.tensor(decodeF32(i.data), i.shape));
      const cot = vg.tensor(decodeF32(c.cotangent!), c.outputs[0].shape);
      const loss = (args: Tensor[]) => vg.sum(vg.mul(runOp(c.op, args, c.attrs)[0], cot));
      const wrt = c.inputs.flatMap((inp, i) => (inp.grad ? [i] : []));
      const grads = vg.grad((...ws) => loss(xs.map((x, i) => (wrt.includes(i) ? ws[wrt.indexOf(i)] : x))),
                            wrt.map((i) => xs[i]));
      const dirs = wrt.map((i) => vg.randn(xs[i].shape, gen));
      const at = (sign: number) => vg.noGrad(() => exact(loss(xs.map((x, i) =>
        wrt.includes(i) ? vg.add(x, vg.mul(dirs[wrt.indexOf(i)], sign * eps)) : x)))[0]);
      const numeric = (at(1) - at(-1)) / (2 * eps);
      let analytic = 0, scale = 0;
      grads.forEach((g, k) => {
        const gv = exact(g), dv = exact(dirs[k]);
        for (let e = 0; e < gv.length; e++) {
          analytic += gv[e] * dv[e];
          scale += Math.abs(gv[e] * dv[e]);
        }
      });
      const err = Math.abs(numeric - analytic) / Math.max(scale, 1e-12);
      assert.ok(err < 1e-6, `${c.name}: numeric ${numeric} vs analytic ${analytic} (relative ${err.toExponential(2)})`);
      return grads;
    }).forEach((g) => g.dispose());
  });
}

test.run();
