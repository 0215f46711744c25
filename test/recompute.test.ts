// Activations given back between forward and backward (normalisation outputs, recomputed from the
// convolution outputs the graph keeps) and a no-grad forward that frees each activation after its last
// use: the same numbers, bit for bit, with fewer bytes at the peak.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import * as vg from '../index.ts';
import { testBackends, useBackend } from './helpers/backends.ts';

interface StepsResult { values: Float32Array[]; peakLive: number; forwardPeak: number }

/**
 * A V-Net training step (forward, loss, backward): the loss, every gradient and running statistic,
 * and the peak bytes in use.
 */
async function vnetStep(checkpointBlocks = false): Promise<StepsResult> {
  const be = vg.getBackend();
  const net = new vg.nn.VNet({ nChannels: 1, nClasses: 2, nFilters: 2, normalization: 'batchnorm', hasDropout: true,
                               heads: 'seg+sdm', seed: 5 });
  net.checkpointBlocks = checkpointBlocks;
  const gen = new vg.Generator(5);
  const x = vg.randn([2, 1, 16, 16, 32], gen);
  const y = vg.tensor(Float32Array.from({ length: 2 * 16 * 16 * 32 }, () => +(gen.uniform() > 0.6)), [2, 16, 16, 32]);
  const base = be.memory().live;
  be.resetMemoryPeaks();
  let forwardPeak = 0;
  const loss = vg.scope(() => {
    const { seg, sdm } = net.forward(x);
    const l = vg.add(vg.crossEntropy(seg, y), vg.mean(vg.square(sdm!)));
    forwardPeak = be.memory().peakLive - base;
    l.backward();
    return vg.detach(l);
  });
  const peakLive = be.memory().peakLive - base;
  const values = [await loss.data()];
  for (const p of net.parameters()) values.push(await p.grad!.data());
  for (const [, b] of net.namedBuffers()) values.push(await b.data());
  for (const t of [loss, net, x, y]) t.dispose();
  return { values, peakLive, forwardPeak };
}

for (const backend of testBackends()) {
  const s = suite(`activation memory [${backend.name}]`);
  let recomputed: StepsResult | null = null;

  s('a dropped activation gives its buffer back and comes back with the same values', async () => {
    if (!(await useBackend(backend.name))) return;
    const be = vg.getBackend();
    const w = vg.randn([3, 2, 3, 3, 3], new vg.Generator(1), 0, 0.3);
    w.requiresGrad = true;
    const x = vg.randn([1, 2, 8, 8, 8], new vg.Generator(2));
    const h = vg.conv3d(x, w, undefined, { padding: 1 });
    const a = vg.batchNorm3d(h, undefined, undefined, undefined, undefined, { relu: true });
    const before = await a.data();
    const live = be.memory().live;
    a.drop();
    assert.ok(be.memory().live <= live - a.size * 4, 'the buffer is given back');
    assert.ok(!a.isDisposed, 'the tensor itself lives on');
    assert.equal(Array.from(await a.data()), Array.from(before), 'recomputed bit for bit');
    h.drop();
    assert.ok(be.memory().live > live - a.size * 4, 'a tensor without a recipe keeps its buffer');
    for (const t of [a, h, x, w]) t.dispose();
  });

  s('a V-Net training step: identical with and without recomputation, and a lower peak with it', async () => {
    if (!(await useBackend(backend.name))) return;
    vg.setActivationRecompute(false);
    const kept = await vnetStep();
    vg.setActivationRecompute(true);
    recomputed = await vnetStep();
    assert.is(recomputed.values.length, kept.values.length);
    for (let i = 0; i < kept.values.length; i++) {
      assert.equal(recomputed.values[i], kept.values[i], `result ${i} (loss or gradient) differs with recomputation`);
    }
    // at this size the weights' gradients weigh as much as the activations in backward: the forward shows the saving
    assert.ok(recomputed.forwardPeak < 0.8 * kept.forwardPeak,
              `forward peak ${recomputed.forwardPeak} bytes with recomputation vs ${kept.forwardPeak} without`);
    assert.ok(recomputed.peakLive < kept.peakLive, `peak ${recomputed.peakLive} bytes with recomputation vs ${kept.peakLive} without`);
  });

  s('V-Net blocks as checkpoints: identical losses, gradients and running statistics, and a lower peak', async () => {
    if (!(await useBackend(backend.name))) return;
    const plain = recomputed ?? await vnetStep(), checkpointed = await vnetStep(true);
    assert.is(checkpointed.values.length, plain.values.length);
    for (let i = 0; i < plain.values.length; i++) {
      assert.equal(checkpointed.values[i], plain.values[i], `result ${i} (loss, gradient or running statistic) differs`);
    }
    assert.ok(checkpointed.forwardPeak < 0.95 * plain.forwardPeak,
              `forward peak ${checkpointed.forwardPeak} bytes with checkpoints vs ${plain.forwardPeak} without`);
  });

  s('a no-grad forward holds a fraction of what a recorded forward keeps', async () => {
    if (!(await useBackend(backend.name))) return;
    const net = new vg.nn.VNet({ nChannels: 1, nClasses: 2, nFilters: 4, normalization: 'batchnorm', hasDropout: true,
                                 heads: 'seg+sdm', seed: 5 });
    const x = vg.randn([2, 1, 16, 16, 32], new vg.Generator(3));
    // the tensors of open scopes at the peak: the activations, without the weights and the kernels' scratch
    const held = async (f: () => void) => {
      const { census } = await vg.censusAtPeak(f);
      return census.live - census.outsideScopes;
    };
    vg.setActivationRecompute(false);
    const recorded = await held(() => vg.scope(() => { net.forward(x); }));
    vg.setActivationRecompute(true);
    const free = await held(() => vg.noGrad(() => vg.scope(() => { net.forward(x); })));
    assert.ok(free < 0.5 * recorded, `no-grad forward holds ${free} bytes of tensors at its peak vs ${recorded} recorded`);
    net.dispose();
    x.dispose();
  });

  s.run();
}
