// Every op against PyTorch (test/fixtures/ops.json), forward and gradients, on every backend.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import * as vg from '../index.ts';
import { testBackends, useBackend } from './helpers/backends.ts';
import { assertClose } from './helpers/compare.ts';
import { decodeF32, loadOpCases } from './helpers/fixtures.ts';
import { opTable, runOp } from './helpers/op-table.ts';

const cases = loadOpCases();

const coverage = suite('op fixtures');
coverage('every op of the API has PyTorch fixtures', () => {
  const covered = new Set(cases.map((c) => c.op));
  for (const op of Object.keys(opTable)) assert.ok(covered.has(op), `no fixture for ${op}`);
});
coverage.run();

for (const backend of testBackends()) {
  const s = suite(`ops vs PyTorch [${backend.name}]`);
  let available = false;
  s.before(async () => { available = await useBackend(backend.name); });

  for (const c of cases) {
    s(c.name, async () => {
      if (!available) return;
      const inputs = () => c.inputs.map((i) => vg.tensor(decodeF32(i.data), i.shape));
      const outs = vg.scope(() => runOp(c.op, inputs(), c.attrs).map((o) => vg.detach(o)));
      assert.is(outs.length, c.outputs.length, 'output count');
      for (let k = 0; k < outs.length; k++) {
        assert.equal([...outs[k].shape], c.outputs[k].shape, `output ${k} shape`);
        assertClose(await outs[k].data(), decodeF32(c.outputs[k].data), backend.forwardTol, `${c.name} output ${k}`);
        outs[k].dispose();
      }
      if (!c.grads) return;
      const xs = inputs();
      const wrt = xs.filter((_, i) => c.inputs[i].grad);
      const cot = vg.tensor(decodeF32(c.cotangent!), c.outputs[0].shape);
      const grads = vg.grad((...ws) => {
        let j = 0;
        const args = xs.map((x, i) => (c.inputs[i].grad ? ws[j++] : x));
        return vg.sum(vg.mul(runOp(c.op, args, c.attrs)[0], cot));
      }, wrt);
      let j = 0;
      for (let i = 0; i < xs.length; i++) {
        if (!c.inputs[i].grad) continue;
        const g = grads[j++];
        assert.equal([...g.shape], c.inputs[i].shape, `grad ${i} shape`);
        assertClose(await g.data(), decodeF32(c.grads[i]!), backend.gradTol, `${c.name} grad of input ${i}`);
      }
      for (const t of [...xs, cot, ...grads]) t.dispose();
    });
  }
  s.run();
}
