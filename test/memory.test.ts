// 1000 steps of a small training loop under scope(): the live-buffer count must not grow.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import * as vg from '../index.ts';
import { testBackends, useBackend } from './helpers/backends.ts';

for (const backend of testBackends()) {
  const s = suite(`memory [${backend.name}]`);
  s(`1000 training steps leave no buffers behind`, async () => {
    if (!(await useBackend(backend.name))) return;
    const gen = new vg.Generator(3);
    const w1 = vg.randn([3, 1, 3, 3, 3], gen, 0, 0.3), b1 = vg.zeros([3]);
    const gamma = vg.ones([3]), beta = vg.zeros([3]), rm = vg.zeros([3]), rv = vg.ones([3]);
    const w2 = vg.randn([2, 3, 1, 1, 1], gen, 0, 0.3);
    const params = [w1, b1, gamma, beta, w2];
    for (const p of params) p.requiresGrad = true;
    const x = vg.randn([2, 1, 4, 4, 4], gen);
    const y = vg.tensor(Float32Array.from({ length: 128 }, (_, i) => (i % 3 === 0 ? 1 : 0)), [2, 4, 4, 4]);
    const step = () => vg.scope(() => {
      const h = vg.relu(vg.batchNorm3d(vg.conv3d(x, w1, b1, { padding: 1 }), gamma, beta, rm, rv));
      const loss = vg.crossEntropy(vg.conv3d(h, w2), y);
      loss.backward();
      vg.noGrad(() => {
        for (const p of params) {
          p.assign(vg.sub(p, vg.mul(p.grad!, 0.1)));
          p.grad!.dispose();
          p.grad = null;
        }
      });
      return vg.detach(loss);
    });
    const first = step();
    const firstLoss = await first.item();
    first.dispose();
    let liveAt10 = 0, last = 0;
    for (let i = 1; i < 1000; i++) {
      const loss = step();
      if (i === 999) last = await loss.item();
      loss.dispose();
      if (i === 10) liveAt10 = vg.getBackend().liveBuffers();
    }
    assert.is(vg.getBackend().liveBuffers(), liveAt10, 'live buffers after step 1000 vs step 10');
    assert.ok(last < firstLoss, `training should lower the loss (${firstLoss} -> ${last})`);
  });

  s(`memory(): live and held bytes follow a tensor's life, with high-water marks`, async () => {
    if (!(await useBackend(backend.name))) return;
    const b = vg.getBackend();
    const before = b.memory();
    b.resetMemoryPeaks();
    const t = vg.zeros([1000, 1000]);
    const during = b.memory();
    assert.ok(during.live - before.live >= 4e6, `live grows by ${during.live - before.live} bytes for 10⁶ floats`);
    assert.ok(during.reserved >= during.live && during.peakLive >= during.live);
    t.dispose();
    const after = b.memory();
    assert.is(after.live, before.live, 'live bytes return when the tensor is freed');
    assert.ok(after.peakLive >= during.live, 'the high-water mark remembers the tensor');
    b.resetMemoryPeaks();
    assert.is(b.memory().peakLive, after.live);
  });
  s.run();
}
