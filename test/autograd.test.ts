// Autograd and memory semantics that the fixtures do not cover.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as vg from '../index.ts';

test.before(async () => { await vg.setBackend('ref'); });

test('backward accumulates into .grad, as PyTorch does', async () => {
  const x = vg.tensor([1, 2, 3]);
  x.requiresGrad = true;
  vg.sum(vg.square(x)).backward();
  assert.equal(Array.from(await x.grad!.data()), [2, 4, 6]);
  vg.sum(vg.mul(x, 3)).backward();
  assert.equal(Array.from(await x.grad!.data()), [5, 7, 9]);
});

test('a tensor used twice gets both contributions', async () => {
  const x = vg.tensor([1, -2]);
  const [g] = vg.grad((x) => vg.sum(vg.add(vg.mul(x, x), x)), [x]);
  assert.equal(Array.from(await g.data()), [3, -3]);
});

test('grad() leaves .grad alone and gives zeros to unreached inputs', async () => {
  const a = vg.tensor([1, 2]), b = vg.tensor([5]);
  a.requiresGrad = true;
  const [ga, gb] = vg.grad((a, _b) => vg.sum(vg.exp(a)), [a, b]);
  assert.is(a.grad, null);
  assert.equal(Array.from(await gb.data()), [0]);
  assert.ok(Math.abs((await ga.data())[1] - Math.exp(2)) < 1e-5);
});

test('noGrad records nothing', () => {
  const x = vg.tensor([1, 2]);
  x.requiresGrad = true;
  const y = vg.noGrad(() => vg.mul(x, 2));
  assert.is(y.requiresGrad, false);
  assert.is(y.node, null);
  assert.throws(() => y.backward(), /does not require grad/);
});

test('backward from a non-scalar takes a seed', async () => {
  const x = vg.tensor([1, 2, 3]);
  x.requiresGrad = true;
  vg.mul(x, x).backward(vg.tensor([1, 0, -1]));
  assert.equal(Array.from(await x.grad!.data()), [2, 0, -6]);
});

test('scope frees intermediates, keeps what it returns (nested too) and what is kept', () => {
  const be = vg.getBackend();
  const before = be.liveBuffers();
  let kept: vg.Tensor | null = null;
  const out = vg.scope(() => {
    const a = vg.ones([4]);
    const b = vg.add(a, 1);
    kept = vg.keep(vg.mul(b, 2));
    return { pair: [vg.exp(b), vg.neg(b)] };
  });
  assert.is(be.liveBuffers(), before + 3);
  assert.throws(() => vg.scope(() => Promise.resolve(1)), /synchronous/);
  out.pair.forEach((t) => t.dispose());
  kept!.dispose();
  assert.is(be.liveBuffers(), before);
});

test('a disposed tensor says so when used', () => {
  const t = vg.ones([2, 3]);
  t.dispose();
  assert.throws(() => vg.add(t, 1), /used after dispose/);
});

test('dropout3d from a generator: whole channels, survivors scaled, reproducible, off in eval', async () => {
  const x = vg.ones([3, 8, 2, 2, 2]);
  const a = await vg.dropout3d(x, 0.5, { generator: new vg.Generator(9) }).data();
  const b = await vg.dropout3d(x, 0.5, { generator: new vg.Generator(9) }).data();
  assert.equal(Array.from(a), Array.from(b));
  let dropped = 0;
  for (let ch = 0; ch < 24; ch++) {
    const vals = new Set(a.subarray(ch * 8, ch * 8 + 8));
    assert.is(vals.size, 1, 'one value per channel');
    const v = [...vals][0];
    assert.ok(v === 0 || v === 2, `value ${v}`);
    if (v === 0) dropped++;
  }
  assert.ok(dropped > 3 && dropped < 21, `${dropped} of 24 channels dropped`);
  assert.is(vg.dropout3d(x, 0.5, { training: false }), x);
});

test('shape errors name the shapes', () => {
  assert.throws(() => vg.add(vg.ones([2, 3]), vg.ones([4])), /\[2,3\] and \[4\] do not broadcast/);
  assert.throws(() => vg.conv3d(vg.ones([1, 2, 4, 4, 4]), vg.ones([3, 5, 3, 3, 3])), /2 channels/);
  assert.throws(() => vg.reshape(vg.ones([6]), [4, -1]), /cannot reshape/);
});

test('the generator state round-trips', () => {
  const g = new vg.Generator(42);
  g.uniform();
  const state = g.getState();
  const next = [g.uniform(), g.normal()];
  const h = new vg.Generator(0);
  h.setState(state);
  assert.equal([h.uniform(), h.normal()], next);
});

test.run();
