// Sliding-window inference of a checkpoint on a real LA case equals PyTorch's run of the same
// window scheme (test/fixtures/make_la_inference.py): probabilities to 1e-4, labels wherever the
// decision is not a near-tie.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { inflateSync } from 'node:zlib';
import * as vg from '../index.ts';
import { readVolume } from '../io/files.ts';
import { slidingWindow } from '../infer/sliding-window.ts';
import { decodeF32, repoRoot } from './helpers/fixtures.ts';

const fx = JSON.parse(readFileSync(`${repoRoot}test/fixtures/la_inference.json`, 'utf8'));
// The fastest CPU backend present: the reference backend would need minutes for 45 windows.
const backend = vg.registeredBackends().includes('wasm') ? 'wasm' : 'ref';

test(`LA case ${fx.case}: ${fx.windows} windows of 112×112×80 on ${backend} match PyTorch`, async () => {
  await vg.setBackend(backend);
  const image = await readVolume(`${repoRoot}../shared/data/la/cases/${fx.case}/mri_norm2.h5`);
  assert.equal(image.shape, fx.shape);
  const net = new vg.nn.VNet({ nChannels: 1, nClasses: 2, nFilters: 2, normalization: 'batchnorm', hasDropout: true, heads: 'seg+sdm' });
  await vg.loadCheckpoint(net, `${repoRoot}test/fixtures/la_infer_vnet.safetensors`);
  net.eval();
  const r = await slidingWindow(image.data, image.shape, (x) => vg.softmax(net.forward(x, { dropout: false }).seg, 1),
                                { patch: [112, 112, 80], stride: [18, 18, 4], batch: 2 });
  const vol = image.data.length;
  const expected = decodeF32(fx.fgSampled);
  let worst = 0;
  for (let k = 0; k < expected.length; k++) worst = Math.max(worst, Math.abs(r.probs[vol + k * fx.sampleStride] - expected[k]));
  assert.ok(worst <= 1e-4, `foreground probability differs by up to ${worst.toExponential(2)}`);
  for (let c = 0; c < 2; c++) {
    let s = 0;
    for (let i = 0; i < vol; i++) s += r.probs[c * vol + i];
    assert.ok(Math.abs(s - fx.probSums[c]) / fx.probSums[c] < 1e-5, `class ${c} probability sum ${s} vs ${fx.probSums[c]}`);
  }
  const label = inflateSync(Buffer.from(fx.label, 'base64'));
  let mismatches = 0, foreground = 0;
  for (let i = 0; i < vol; i++) {
    foreground += r.label[i];
    if (r.label[i] !== label[i] && Math.abs(r.probs[vol + i] - 0.5) > 1e-4) mismatches++;
  }
  assert.is(mismatches, 0, 'labels differ away from ties');
  assert.ok(Math.abs(foreground - fx.foreground) <= 10, `foreground ${foreground} vs ${fx.foreground}`);
  net.dispose();
});

test.run();
