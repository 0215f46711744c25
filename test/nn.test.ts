// The nn layers: PyTorch naming, train/eval behaviour, buffers, dropout and state-dict loading.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as vg from '../index.ts';
import { ConvBlock, type Normalization, UpBlock } from '../nn/vnet-blocks.ts';
import { assertClose } from './helpers/compare.ts';

const { nn } = vg;
const g = () => new vg.Generator(3);

test.before(async () => { await vg.setBackend('ref'); });

test('Sequential names children 0, 1, … and parameters nest with dots, in PyTorch order', () => {
  const seq = new nn.Sequential(new nn.Conv3d(1, 2, 3, { generator: g() }), new nn.BatchNorm3d(2), new nn.ReLU(),
                                new nn.Conv3d(2, 2, 1, { bias: false, generator: g() }), new nn.GroupNorm(1, 2),
                                new nn.InstanceNorm3d(2));
  assert.equal([...seq.stateDict()].map(([k, t]) => `${k}:${t.shape}`), [
    '0.weight:2,1,3,3,3', '0.bias:2', '1.weight:2', '1.bias:2', '1.running_mean:2', '1.running_var:2',
    '1.num_batches_tracked:', '3.weight:2,2,1,1,1', '4.weight:2', '4.bias:2',
  ]);
  assert.equal(seq.namedParameters().map(([k]) => k), ['0.weight', '0.bias', '1.weight', '1.bias', '3.weight', '4.weight', '4.bias']);
  assert.ok(seq.parameters().every((p) => p.requiresGrad));
  assert.is(seq.numParameters(), 54 + 2 + 4 + 4 + 4);
  seq.eval();
  assert.ok(seq.layers.every((m) => !m.training), 'eval reaches every child');
  seq.dispose();
});

test('BatchNorm3d: PyTorch momentum on the running statistics, a counter, eval uses running statistics', async () => {
  const bn = new nn.BatchNorm3d(1, { momentum: 0.25 });
  const x = vg.tensor([1, 2, 3, 6], [1, 1, 1, 2, 2]);
  vg.scope(() => bn.forward(x));
  vg.scope(() => bn.forward(x));
  // mean 3, unbiased variance 14/3; after two steps: 3·(1 − 0.75²) and 1·0.75² + 14/3·(1 − 0.75²).
  assert.ok(Math.abs((await bn.runningMean.item()) - 3 * (1 - 0.5625)) < 1e-6);
  assert.ok(Math.abs((await bn.runningVar.item()) - (0.5625 + (14 / 3) * 0.4375)) < 1e-5);
  assert.is(await bn.numBatchesTracked.item(), 2);
  bn.eval();
  const y = vg.scope(() => bn.forward(x));
  const [m, v] = [await bn.runningMean.item(), await bn.runningVar.item()];
  assert.ok(Math.abs((await y.data())[3] - (6 - m) / Math.sqrt(v + 1e-5)) < 1e-5);
  assert.is(await bn.numBatchesTracked.item(), 2, 'eval does not count');
  bn.dispose();
});

test('Dropout3d drops whole channels from its seeded generator in train mode, nothing in eval', async () => {
  const x = vg.ones([2, 8, 2, 2, 2]);
  const a = new nn.Dropout3d(0.5, new vg.Generator(1)), b = new nn.Dropout3d(0.5, new vg.Generator(1));
  const ya = await a.forward(x).data(), yb = await b.forward(x).data();
  assert.equal(ya, yb, 'same seed, same mask');
  for (let c = 0; c < 16; c++) {
    const block = ya.subarray(c * 8, c * 8 + 8);
    assert.ok(block.every((v) => v === block[0]) && (block[0] === 0 || block[0] === 2), `channel ${c} all 0 or all 2`);
  }
  assert.ok(ya.some((v) => v === 0) && ya.some((v) => v === 2));
  assert.equal([...(await a.forward(x, Array(16).fill(1)).data())], Array(128).fill(2), 'a given mask wins');
  a.eval();
  assert.is(a.forward(x), x);
});

test('VNet dropout: drawn in train mode, off with { dropout: false } and in eval; single head has no sdm', async () => {
  const net = new nn.VNet({ nChannels: 1, nClasses: 2, nFilters: 2, hasDropout: true, seed: 4 });
  const x = vg.randn([2, 1, 16, 16, 16], g());
  const seg = async (opts?: vg.nn.VNetForwardOptions) => {
    const out = vg.noGrad(() => net.forward(x, opts));
    assert.is(out.sdm, undefined);
    return out.seg.data();
  };
  const off1 = await seg({ dropout: false }), off2 = await seg({ dropout: false });
  assert.equal(off1, off2);
  const on1 = await seg(), on2 = await seg();
  assert.not.equal(on1, on2, 'fresh masks each call');
  net.eval();
  assert.equal(await seg(), await seg());
  net.dispose();
});

test('loadStateDict copies tensors, and zeroGrad clears gradients', async () => {
  const conv = new nn.Conv3d(1, 1, 1, { generator: g() });
  const w = vg.tensor([0.5], [1, 1, 1, 1, 1]), b = vg.tensor([0.25], [1]);
  conv.loadStateDict(new Map([['weight', w], ['bias', b]]));
  w.assign(vg.tensor([9], [1, 1, 1, 1, 1]));
  assert.is(await conv.weight.item(), 0.5);
  vg.sum(conv.forward(vg.ones([1, 1, 2, 2, 2]))).backward();
  assert.is(await conv.bias!.grad!.item(), 8);
  conv.zeroGrad();
  assert.is(conv.bias!.grad, null);
  assert.throws(() => conv.loadStateDict(new Map([['weight', w]]), 'my.safetensors'), /my\.safetensors does not match Conv3d\. missing: bias\./);
  await vg.setBackend('ref64');
  const elsewhere = vg.tensor([1], [1]);
  await vg.setBackend('ref');
  assert.throws(() => conv.loadStateDict(new Map([['weight', w], ['bias', elsewhere]])), /'bias' is on backend 'ref64', the module on 'ref'/);
  assert.is(await conv.weight.item(), 0.5, 'a refused load changes nothing');
  conv.dispose();
});

/** The value of sum(f(x, skip)·cot) and its gradients for x, the skip and every parameter of the block. */
async function valueAndGrads(block: ConvBlock | UpBlock, f: (x: vg.Tensor, skip: vg.Tensor) => vg.Tensor,
                             x: vg.Tensor, skip: vg.Tensor, cot: vg.Tensor) {
  const leaves = [x, skip, ...block.parameters()];
  for (const t of leaves) t.requiresGrad = true;
  const loss = vg.scope(() => {
    const l = vg.sum(vg.mul(f(x, skip), cot));
    l.backward();
    return vg.detach(l);
  });
  const out = await Promise.all([loss, ...leaves.map((t) => t.grad!)].map((t) => t.data()));
  loss.dispose();
  for (const t of leaves) {
    t.grad!.dispose();
    t.grad = null;
  }
  return out;
}

test('V-Net blocks: fused norm → ReLU (+ skip) equals the layers one by one, values and gradients', async () => {
  const kinds: Normalization[] = ['batchnorm', 'groupnorm', 'instancenorm', 'none'];
  for (const kind of kinds) {
    for (const [name, block] of [['ConvBlock', new ConvBlock(2, 16, 16, kind, g())], ['UpBlock', new UpBlock(16, 16, kind, g())]] as const) {
      const gen = new vg.Generator(5);
      const x = vg.randn([2, 16, 3, 2, 3], gen);
      const outShape = name === 'UpBlock' ? [2, 16, 6, 4, 6] : [2, 16, 3, 2, 3];
      const skip = vg.randn(outShape, gen), cot = vg.randn(outShape, gen);
      const fused = await valueAndGrads(block, (xi, si) => block.forward(xi, si), x, skip, cot);
      const layered = await valueAndGrads(block, (xi, si) => vg.add(block.conv.forward(xi), si), x, skip, cot);
      fused.forEach((v, i) => assertClose(v, layered[i], 1e-5, `${name} ${kind}: ${i === 0 ? 'value' : `gradient ${i - 1}`}`));
      for (const t of [x, skip, cot]) t.dispose();
      block.dispose();
    }
  }
});

test.run();
