// The V-Net against PyTorch (fixtures from test/vnet_reference.py): structure at full size, and
// outputs, parameter gradients and BN buffers in both directions of weight exchange, per backend.
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import * as vg from '../index.ts';
import { testBackends, useBackend } from './helpers/backends.ts';
import { relativeError } from './helpers/compare.ts';
import { imposeMasks, recordWasmMasks } from './helpers/relu-masks.ts';
import { loadParity, torchWeightsPath } from './helpers/vnet-fixture.ts';

const fx = loadParity();
const dir = mkdtempSync(join(tmpdir(), 'voxgrad-vnet-'));

const structure = suite('VNet structure');
structure.before(async () => { await vg.setBackend('ref'); });

structure('VNet(1, 1, 16, batchnorm, seg+sdm) has the reference 9,448,866 parameters', () => {
  const net = new vg.nn.VNet({ nChannels: 1, nClasses: 1, nFilters: 16, normalization: 'batchnorm',
                               hasDropout: true, heads: 'seg+sdm', seed: 1 });
  assert.is(net.numParameters(), 9448866);
  net.dispose();
});

structure('state-dict names, order and shapes equal PyTorch for every normalization and head layout', () => {
  assert.is(fx.manifests.length, 8);
  for (const m of fx.manifests) {
    const what = JSON.stringify(m.config);
    if (m.config.normalization === 'groupnorm') {
      // GroupNorm(16, C) as in the reference: fine at 16 filters, a clear error below.
      assert.throws(() => new vg.nn.VNet({ ...m.config, nFilters: 4 }), /16 groups/);
    }
    const net = new vg.nn.VNet(m.config);
    const ours = [...net.stateDict()].map(([k, t]) => [k, [...t.shape]]);
    assert.equal(ours, m.state, what);
    assert.is(net.numParameters(), m.parameters, what);
    net.dispose();
  }
});

structure('inputs not divisible by 16 and wrong channel counts are clear errors', () => {
  const net = new vg.nn.VNet({ nChannels: 1, nClasses: 2, nFilters: 2 });
  assert.throws(() => net.forward(vg.zeros([1, 1, 16, 24, 16])), /16×24×16 is not divisible by 16/);
  assert.throws(() => net.forward(vg.zeros([1, 2, 16, 16, 16])), /needs input \[N, 1, D, H, W\]/);
  net.dispose();
});

structure('default init: PyTorch bounds (ConvTranspose fan_in from weight dim 1), seeded', async () => {
  const net = new vg.nn.VNet({ nChannels: 1, nClasses: 2, nFilters: 16, seed: 7 });
  const sd = net.stateDict();
  const maxAbs = async (name: string) => (await sd.get(name)!.data()).reduce((m, v) => Math.max(m, Math.abs(v)), 0);
  // Conv3d 256→256 k3: fan_in 256·27. ConvTranspose3d 256→128 k2, weight [256, 128, 2, 2, 2]: fan_in 128·8.
  const conv = await maxAbs('block_five.conv.0.weight');
  assert.ok(conv <= 1 / Math.sqrt(256 * 27) && conv > 0.99 / Math.sqrt(256 * 27), `conv bound ${conv}`);
  const up = await maxAbs('block_five_up.conv.0.weight');
  assert.ok(up <= 1 / Math.sqrt(128 * 8) && up > 0.99 / Math.sqrt(128 * 8), `transposed bound ${up}`);
  const upBias = await maxAbs('block_five_up.conv.0.bias');
  assert.ok(upBias <= 1 / Math.sqrt(128 * 8) && upBias > 1 / Math.sqrt(256 * 8), `transposed bias bound ${upBias}`);
  assert.equal([...(await sd.get('block_one.conv.1.weight')!.data())], Array(16).fill(1));
  assert.equal([...(await sd.get('block_one.conv.1.running_var')!.data())], Array(16).fill(1));
  const again = new vg.nn.VNet({ nChannels: 1, nClasses: 2, nFilters: 16, seed: 7 });
  assert.equal(await again.stateDict().get('out_conv.weight')!.data(), await sd.get('out_conv.weight')!.data());
  net.dispose();
  again.dispose();
});

structure("the exported weights PyTorch consumed are exactly what voxgrad writes for that config", async () => {
  const net = new vg.nn.VNet(fx.configA);
  const path = join(dir, 'export.safetensors');
  await vg.saveCheckpoint(net, path, { metadata: { config: JSON.stringify(fx.configA) } });
  assert.is(createHash('sha256').update(readFileSync(path)).digest('hex'), fx.meta.a_export_sha256);
  net.dispose();
});
structure('PyTorch weights survive a voxgrad load and save unchanged: names, order, dtypes, bits', async () => {
  const net = new vg.nn.VNet({ ...fx.configB, seed: 99 });
  await vg.loadCheckpoint(net, torchWeightsPath);
  const path = join(dir, 'resaved.safetensors');
  await vg.saveCheckpoint(net, path);
  const theirs = vg.decodeSafetensors(readFileSync(torchWeightsPath)).tensors;
  const ours = vg.decodeSafetensors(readFileSync(path)).tensors;
  assert.equal([...ours.keys()], [...theirs.keys()]);
  for (const [name, t] of theirs) {
    const o = ours.get(name)!;
    assert.equal([o.dtype, o.shape], [t.dtype, t.shape], name);
    assert.equal(new Uint32Array(o.data.buffer), new Uint32Array(t.data.buffer), name);
  }
  assert.is(theirs.get('block_one.conv.1.num_batches_tracked')!.data[0], 2);
  net.dispose();
});
structure.run();

function check(errors: string[], what: string, actual: ArrayLike<number>, expected: ArrayLike<number>, tol: number) {
  const e = relativeError(actual, expected);
  if (!(e <= tol)) errors.push(`${what}: ${e.toExponential(2)} > ${tol}`);
  return e;
}

function maxAbs(a: ArrayLike<number>) {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]));
  return m;
}

/** sum(seg·cot_seg) + sum(sdm·cot_sdm): its gradients are those PyTorch recorded. */
function loss(out: vg.nn.VNetOutput, cotSeg: vg.Tensor, cotSdm: vg.Tensor) {
  return vg.add(vg.sum(vg.mul(out.seg, cotSeg)), vg.sum(vg.mul(out.sdm!, cotSdm)));
}

const tensorOf = (name: string) => {
  const t = fx.get(name);
  return vg.tensor(t.data, t.shape);
};

for (const backend of testBackends()) {
  // The bar for the whole network: 1e-4 relative on ref and wasm, 1e-3 on webgpu.
  const tol = backend.gradTol;
  const s = suite(`VNet vs PyTorch [${backend.name}]`);
  let available = false;
  s.before(async () => { available = await useBackend(backend.name); });

  s('voxgrad weights in PyTorch: train mode with the same dropout masks, then eval mode', async () => {
    if (!available) return;
    const net = new vg.nn.VNet(fx.configA);
    const x = tensorOf('x'), cotSeg = tensorOf('a/cot_seg'), cotSdm = tensorOf('a/cot_sdm');
    const masks: [Float32Array, Float32Array] = [fx.get('a/mask5').data, fx.get('a/mask9').data];
    const train = vg.scope(() => {
      const out = net.forward(x, { dropoutMasks: masks });
      loss(out, cotSeg, cotSdm).backward();
      return { seg: vg.detach(out.seg), sdm: vg.detach(out.sdm!) };
    });
    const errors: string[] = [];
    const worst = { out: 0, grad: 0, state: 0 };
    worst.out = Math.max(check(errors, 'train seg', await train.seg.data(), fx.get('a/train/seg').data, tol),
                         check(errors, 'train sdm', await train.sdm.data(), fx.get('a/train/sdm').data, tol));
    const params = net.namedParameters();
    assert.is(params.length, fx.names.filter((k) => k.startsWith('a/train/grad/')).length, 'one gradient per parameter');
    const state = net.stateDict();
    for (const [name, p] of params) {
      assert.ok(p.grad, `${name} has a gradient`);
      const ours = await p.grad!.data(), theirs = fx.get(`a/train/grad/${name}`).data;
      const bn = name.match(/^(.*\.conv\.)(\d+)\.bias$/);
      if (bn && state.has(`${bn[1]}${Number(bn[2]) + 1}.running_mean`)) {
        // A bias right before train-mode BatchNorm cancels: its gradient is exactly 0, PyTorch's is
        // float64 round-off, so "relative" is meaningless. Both must be ~0 on the scale of the weight's.
        const scale = maxAbs(fx.get(`a/train/grad/${name.replace(/bias$/, 'weight')}`).data);
        assert.ok(maxAbs(theirs) <= 1e-9 * scale, `${name}: PyTorch's gradient is not ~0`);
        const e = maxAbs(ours) / scale;
        if (!(e <= tol)) errors.push(`grad ${name} (analytically 0): ${e.toExponential(2)} of the weight gradient > ${tol}`);
        worst.grad = Math.max(worst.grad, e);
        continue;
      }
      // wasm's are compared with the oracle under wasm's own ReLU decisions (the suite below)
      if (backend.name !== 'wasm') worst.grad = Math.max(worst.grad, check(errors, `grad ${name}`, ours, theirs, tol));
    }
    for (const [name, b] of net.namedBuffers()) {
      worst.state = Math.max(worst.state, check(errors, `buffer ${name}`, await b.data(), fx.get(`a/train/state/${name}`).data, tol));
    }
    net.eval();
    const ev = vg.scope(() => vg.noGrad(() => net.forward(x)));
    worst.out = Math.max(worst.out, check(errors, 'eval seg', await ev.seg.data(), fx.get('a/eval/seg').data, tol),
                         check(errors, 'eval sdm', await ev.sdm!.data(), fx.get('a/eval/sdm').data, tol));
    const grads = backend.name === 'wasm' ? 'analytically-0 gradients' : 'gradients';
    console.log(`\n  [${backend.name}] voxgrad→PyTorch worst relative error: outputs ${worst.out.toExponential(2)}, ` +
                `${grads} ${worst.grad.toExponential(2)}, BN buffers ${worst.state.toExponential(2)}`);
    assert.equal(errors, []);
    for (const t of [x, cotSeg, cotSdm, train.seg, train.sdm, ev.seg, ev.sdm!]) t.dispose();
    net.dispose();
  });

  s('PyTorch weights in voxgrad: eval mode with gradients, then train mode with dropout off', async () => {
    if (!available) return;
    const net = new vg.nn.VNet({ ...fx.configB, seed: 99 });
    await vg.loadCheckpoint(net, torchWeightsPath);
    const x = tensorOf('x'), cotSeg = tensorOf('b/cot_seg'), cotSdm = tensorOf('b/cot_sdm');
    const errors: string[] = [];
    const worst = { out: 0, grad: 0, state: 0 };
    net.eval();
    const ev = vg.scope(() => {
      const out = net.forward(x);
      loss(out, cotSeg, cotSdm).backward();
      return { seg: vg.detach(out.seg), sdm: vg.detach(out.sdm!) };
    });
    worst.out = Math.max(check(errors, 'eval seg', await ev.seg.data(), fx.get('b/eval/seg').data, tol),
                         check(errors, 'eval sdm', await ev.sdm.data(), fx.get('b/eval/sdm').data, tol));
    for (const [name, p] of net.namedParameters()) {
      worst.grad = Math.max(worst.grad, check(errors, `grad ${name}`, await p.grad!.data(), fx.get(`b/eval/grad/${name}`).data, tol));
    }
    net.train();
    const tr = vg.scope(() => vg.noGrad(() => net.forward(x, { dropout: false })));
    worst.out = Math.max(worst.out, check(errors, 'train seg', await tr.seg.data(), fx.get('b/train/seg').data, tol),
                         check(errors, 'train sdm', await tr.sdm!.data(), fx.get('b/train/sdm').data, tol));
    for (const [name, b] of net.namedBuffers()) {
      worst.state = Math.max(worst.state, check(errors, `buffer ${name}`, await b.data(), fx.get(`b/train/state/${name}`).data, tol));
    }
    console.log(`  [${backend.name}] PyTorch→voxgrad worst relative error: outputs ${worst.out.toExponential(2)}, ` +
                `gradients ${worst.grad.toExponential(2)}, BN buffers ${worst.state.toExponential(2)}`);
    assert.equal(errors, []);
    for (const t of [x, cotSeg, cotSdm, ev.seg, ev.sdm, tr.seg, tr.sdm!]) t.dispose();
    net.dispose();
  });
  s.run();
}

const cleanup = suite('VNet test cleanup');
cleanup('temporary files removed', () => rmSync(dir, { recursive: true, force: true }));
cleanup.run();

/** One train-mode step of config A's network from `init`, on the current backend: outputs, gradients, buffers. */
async function trainStep(init: Map<string, { data: Float32Array; shape: number[] }>) {
  const net = new vg.nn.VNet(fx.configA);
  net.loadStateDict(init);
  const x = tensorOf('x'), cotSeg = tensorOf('a/cot_seg'), cotSdm = tensorOf('a/cot_sdm');
  const masks: [Float32Array, Float32Array] = [fx.get('a/mask5').data, fx.get('a/mask9').data];
  const out = vg.scope(() => {
    const o = net.forward(x, { dropoutMasks: masks });
    loss(o, cotSeg, cotSdm).backward();
    return [vg.detach(o.seg), vg.detach(o.sdm!)];
  });
  const result = new Map<string, Float32Array>([['seg', await out[0].data()], ['sdm', await out[1].data()]]);
  for (const [name, p] of net.namedParameters()) result.set(`grad ${name}`, await p.grad!.data());
  for (const [name, b] of net.namedBuffers()) result.set(`buffer ${name}`, await b.data());
  for (const t of [x, cotSeg, cotSdm, ...out]) t.dispose();
  net.dispose();
  return result;
}

if (testBackends().some((b) => b.name === 'wasm')) {
  const oracle = suite('VNet train mode [wasm] vs the float64 oracle under the same ReLU decisions');
  oracle('outputs, every parameter gradient and BN buffer to 1e-4; ReLU disagreements only within round-off of 0', async () => {
    if (!(await useBackend('wasm'))) return;
    const init = new Map<string, { data: Float32Array; shape: number[] }>();
    const fresh = new vg.nn.VNet(fx.configA);
    for (const [name, t] of fresh.stateDict()) init.set(name, { data: await t.data(), shape: [...t.shape] });
    fresh.dispose();
    const rec = recordWasmMasks(vg.getBackend());
    let ours: Map<string, Float32Array>;
    try { ours = await trainStep(init); } finally { rec.restore(); }

    await vg.setBackend('ref64');
    const imposed = imposeMasks(vg.getBackend(), rec.masks);
    let theirs: Map<string, Float32Array>;
    try { theirs = await trainStep(init); } finally { imposed.restore(); }
    assert.is(imposed.calls(), rec.masks.length, 'the same ReLU epilogues ran on both');

    // Disagreements are allowed only where float32 round-off can reach: |z| ≤ 1e-4 of the layer's largest
    const units = rec.masks.reduce((s, m) => s + m.length, 0);
    const worstMargin = Math.max(0, ...imposed.disagreements.map((d) => Math.abs(d.z) / d.layerMax));
    console.log(`\n  [wasm] ${imposed.disagreements.length} of ${units} ReLU decisions differ from float64, ` +
                `all within ${worstMargin.toExponential(2)} of their layer's largest input of 0`);
    assert.ok(worstMargin <= 1e-4, `a ReLU decision differs at |z| = ${worstMargin.toExponential(2)} of the layer's largest`);

    const errors: string[] = [];
    let worst = 0;
    for (const [what, t] of theirs) {
      // a conv bias right before train-mode batch norm has gradient 0 (see above): measured on its weight's scale
      const weight = theirs.get(what.replace(/\.bias$/, '.weight'));
      if (what.endsWith('.bias') && weight && maxAbs(t) <= 1e-9 * maxAbs(weight)) {
        const e = maxAbs(ours.get(what)!) / maxAbs(weight);
        if (!(e <= 1e-4)) errors.push(`${what} (analytically 0): ${e.toExponential(2)} of the weight gradient`);
        worst = Math.max(worst, e);
      } else {
        worst = Math.max(worst, check(errors, what, ours.get(what)!, t, 1e-4));
      }
    }
    console.log(`  [wasm] worst relative error against the oracle: ${worst.toExponential(2)}`);
    assert.equal(errors, []);
  });
  oracle.run();
}
