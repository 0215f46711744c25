// Sliding-window inference against the same window scheme run by PyTorch (fixed small network).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import * as vg from '../index.ts';
import { slidingWindow, windowStarts, type Shape3 } from '../infer/sliding-window.ts';
import { assertClose } from './helpers/compare.ts';
import { decodeF32, repoRoot } from './helpers/fixtures.ts';

const fx = JSON.parse(readFileSync(`${repoRoot}test/fixtures/sliding_window.json`, 'utf8'));

test('window starts follow ⌈(S − P)/stride⌉ + 1 and clamp the last one', () => {
  assert.equal(windowStarts(183, 112, 18), [0, 18, 36, 54, 71]);
  assert.equal(windowStarts(88, 80, 4), [0, 4, 8]);
  assert.equal(windowStarts(112, 112, 18), [0]);
});

for (const c of fx.cases) {
  for (const batch of [1, 3]) {
    test(`${c.name} volume, batch ${batch}`, async () => {
      await vg.setBackend('ref');
      const w = vg.tensor(decodeF32(fx.weight), [2, 1, 3, 3, 3]), b = vg.tensor(decodeF32(fx.bias), [2]);
      let progress = 0;
      const live = vg.getBackend().liveBuffers();
      const r = await slidingWindow(decodeF32(c.image), c.shape as Shape3,
        (x) => vg.softmax(vg.conv3d(x, w, b, { padding: 1 }), 1),
        { patch: c.patch, stride: c.stride, batch, onProgress: (done) => { progress = done; } });
      assert.is(r.classes, 2);
      assertClose(r.probs, decodeF32(c.probs), 1e-5, 'probabilities');
      assert.equal(Array.from(r.label), Array.from(decodeF32(c.label)), 'labels');
      assert.ok(progress > 0, 'progress reported');
      assert.is(vg.getBackend().liveBuffers(), live, 'no window batch leaves a buffer behind');
      w.dispose(); b.dispose();
    });
  }
}

test.run();
