// ReLU lets NaN through, as PyTorch's does (torch.relu(nan) is nan), on its own and fused after a
// batch norm, on every backend: a NaN that reaches an activation must reach the loss, where the
// trainer sees it, instead of vanishing into zeros while it poisons the running statistics.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as vg from '../index.ts';
import { testBackends, useBackend } from './helpers/backends.ts';

// torch.relu(torch.tensor([nan, -inf, -1, -0., 0, 2, inf])) → [nan, 0, 0, -0., 0, 2, inf] (-0. is ≤ 0: 0 in both)
const input = [NaN, -Infinity, -1, -0, 0, 2, Infinity];
const expected = [NaN, 0, 0, 0, 0, 2, Infinity];
const same = (a: number[], b: number[]) => a.length === b.length && a.every((v, i) => Object.is(v, b[i]) || (v === 0 && b[i] === 0));

for (const be of testBackends()) {
  test(`${be.name}: relu and the batch-norm + relu epilogue pass NaN and map everything ≤ 0 to 0`, async () => {
    if (!(await useBackend(be.name))) return;
    // 5 copies so that the SIMD body and its remainder both see every value
    const x = vg.tensor(Float32Array.from({ length: 35 }, (_, i) => input[i % 7]), [35]);
    const relu = [...await vg.relu(x).data()];
    assert.ok(same(relu, Array.from({ length: 35 }, (_, i) => expected[i % 7])), `relu: ${relu.slice(0, 7)}`);
    // eval-mode batch norm with mean 0 and variance 1 - eps is the identity: the epilogue sees x itself
    const c = vg.tensor(Float32Array.of(0), [1]), v = vg.tensor(Float32Array.of(1 - 1e-5), [1]);
    const fused = [...await vg.batchNorm(vg.reshape(x, [1, 1, 35]), undefined, undefined, c, v, { training: false, relu: true }).data()];
    for (const [i, f] of fused.entries()) {
      const e = expected[i % 7];
      assert.ok(Number.isNaN(e) ? Number.isNaN(f) : f === e || Math.abs(f - e) < 1e-6, `batch norm + relu of ${input[i % 7]}: ${f}`);
    }
  });
}

test.run();
