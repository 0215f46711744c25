// The training transforms against numpy (np.rot90, np.flip, RandomCrop's np.pad and slicing, from
// test/fixtures/make_targets.py), their seeded random wrappers, and TwoStreamBatchSampler.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Generator } from '../engine/random.ts';
import { crop, padForCrop, randomCrop, randomRotFlip, rotFlip, type Shape3 } from '../train/data/augment.ts';
import { TwoStreamBatchSampler } from '../train/data/sampler.ts';
import { f32z, targets } from './helpers/targets-fixture.ts';

const tf = targets.transforms;
const input = f32z(tf.input.data), inputShape = tf.input.shape;
const asU8 = (a: Float32Array) => Uint8Array.from(a);

/** A stand-in for Generator.int that returns scripted values and records every bound it is asked for. */
class Script {
  bounds: number[] = [];
  constructor(private values: number[] = []) {}
  int(n: number) {
    this.bounds.push(n);
    const v = this.values.length ? this.values.shift()! : 0;
    if (!(v >= 0 && v < n)) throw new Error(`script value ${v} not in [0, ${n})`);
    return v;
  }
}

const arange = (shape: readonly number[]) => Float32Array.from({ length: shape[0] * shape[1] * shape[2] }, (_, i) => i + 1);

for (const c of tf.rotflip) {
  test(`rotFlip k=${c.k} axis=${c.axis} equals np.flip(np.rot90)`, () => {
    const want = f32z(c.data);
    const got = rotFlip(input, inputShape, c.k, c.axis);
    assert.equal(got.shape, c.shape);
    assert.ok(got.data instanceof Float32Array);
    assert.equal(got.data, want);
    const lab = rotFlip(asU8(input), inputShape, c.k, c.axis);
    assert.ok(lab.data instanceof Uint8Array);
    assert.equal(lab.data, asU8(want));
  });
}

test('rotFlip refuses bad k, axis and lengths', () => {
  assert.throws(() => rotFlip(input, inputShape, 4, 0), /^voxgrad: rotFlip/);
  assert.throws(() => rotFlip(input, inputShape, 1, 2), /^voxgrad: rotFlip/);
  assert.throws(() => rotFlip(input, [3, 4, 4], 1, 0), /^voxgrad: rotFlip/);
});

for (const c of tf.pad) {
  test(`padForCrop ${c.shape.join('×')} for patch ${c.patch.join('×')} equals RandomCrop's np.pad`, () => {
    const x = arange(c.shape);
    const want = f32z(c.data);
    const got = padForCrop(x, c.shape, c.patch);
    assert.equal(got.shape, c.out_shape);
    assert.equal(got.data, want);
    assert.equal(padForCrop(asU8(x), c.shape, c.patch).data, asU8(want));
  });
}

for (const c of tf.crop) {
  test(`crop ${c.patch.join('×')} at ${c.offsets.join(',')} equals numpy slicing`, () => {
    const got = crop(input, inputShape, c.patch, c.offsets);
    assert.equal(got.shape, c.patch);
    assert.equal(got.data, f32z(c.data));
  });
}

test('crop refuses a patch that does not fit', () => {
  assert.throws(() => crop(input, inputShape, [2, 3, 4], [2, 0, 0]), /^voxgrad: crop/);
  assert.throws(() => crop(input, inputShape, [2, 3, 4], [0, 0, -1]), /^voxgrad: crop/);
});

/** An image and a label that is a function of it, to check that both move together. */
function pair(shape: Shape3) {
  const image = arange(shape);
  return { image, label: Uint8Array.from(image, (v) => v % 7) };
}

function assertTogether(image: Float32Array, label: Uint8Array, what: string) {
  for (let i = 0; i < image.length; i++)
    if (label[i] !== image[i] % 7) assert.unreachable(`${what}: label and image differ at ${i}`);
}

test('randomRotFlip draws k then the flip axis and applies both to image and label', () => {
  const shape: Shape3 = [5, 3, 4];
  const { image, label } = pair(shape);
  for (let k = 0; k < 4; k++)
    for (let axis = 0; axis < 2; axis++) {
      const g = new Script([k, axis]);
      const r = randomRotFlip(image, label, shape, g);
      assert.equal(g.bounds, [4, 2]);
      const want = rotFlip(image, shape, k, axis);
      assert.equal(r.shape, want.shape);
      assert.equal(r.image, want.data);
      assert.ok(r.label instanceof Uint8Array);
      assertTogether(r.image, r.label, `k=${k} axis=${axis}`);
    }
});

test('randomRotFlip: same seed, same result; every (k, axis) occurs', () => {
  const shape: Shape3 = [5, 3, 4];
  const { image, label } = pair(shape);
  const a = new Generator(7), b = new Generator(7);
  const seen = new Set<string>();
  for (let t = 0; t < 64; t++) {
    const ra = randomRotFlip(image, label, shape, a), rb = randomRotFlip(image, label, shape, b);
    assert.equal(ra, rb);
    assertTogether(ra.image, ra.label, `draw ${t}`);
    for (let k = 0; k < 4; k++) for (let axis = 0; axis < 2; axis++) {
      const w = rotFlip(image, shape, k, axis);
      if (String(w.shape) === String(ra.shape) && w.data.every((v, i) => v === ra.image[i])) seen.add(`${k},${axis}`);
    }
  }
  assert.is(seen.size, 8);
});

test('randomCrop without padding: offsets randint(0, s − p) in axis order, drawn from the bounds', () => {
  const shape: Shape3 = [35, 51, 35], patch: Shape3 = [32, 48, 32];
  const { image, label } = pair(shape);
  const g = new Script([2, 0, 1]);
  const r = randomCrop(image, label, shape, patch, g);
  assert.equal(g.bounds, [3, 3, 3]);
  assert.equal(r.offsets, [2, 0, 1]);
  assert.equal(r.shape, patch);
  assert.equal(r.image, crop(image, shape, patch, [2, 0, 1]).data);
  assertTogether(r.image, r.label, 'crop');
});

test('randomCrop pads first when a dimension is ≤ the patch (hippocampus_015: 42×51×28)', () => {
  const shape: Shape3 = [42, 51, 28], patch: Shape3 = [32, 48, 32];
  const { image, label } = pair(shape);
  // Padding max((p − s)//2 + 3, 0): 0, 1 and 5 voxels, so the padded volume is 42×53×38.
  const g = new Script([9, 4, 5]);
  const r = randomCrop(image, label, shape, patch, g);
  assert.equal(g.bounds, [10, 5, 6]);
  const padded = padForCrop(image, shape, patch);
  assert.equal(padded.shape, [42, 53, 38]);
  assert.equal(r.image, crop(padded.data, padded.shape, patch, [9, 4, 5]).data);
  assertTogether(r.image, r.label, 'padded crop');
});

test('randomCrop: offsets cover [0, s − p) and never s − p; same seed, same crops', () => {
  const shape: Shape3 = [9, 8, 12], patch: Shape3 = [4, 8, 9];
  const { image, label } = pair(shape);
  const a = new Generator(11), b = new Generator(11);
  const padded = padForCrop(image, shape, patch).shape;
  const seen = [new Set<number>(), new Set<number>(), new Set<number>()];
  for (let t = 0; t < 300; t++) {
    const ra = randomCrop(image, label, shape, patch, a), rb = randomCrop(image, label, shape, patch, b);
    assert.equal(ra, rb);
    ra.offsets.forEach((o, i) => seen[i].add(o));
    if (t < 20) assertTogether(ra.image, ra.label, `draw ${t}`);
  }
  for (let i = 0; i < 3; i++) {
    const range = padded[i] - patch[i];
    assert.ok(range >= 1, `axis ${i}: s − p = ${range}`);
    assert.equal([...seen[i]].sort((x, y) => x - y), Array.from({ length: range }, (_, j) => j), `axis ${i} offsets`);
  }
});

// ---- TwoStreamBatchSampler

const range = (a: number, b: number) => Array.from({ length: b - a }, (_, i) => a + i);
const sorted = (a: number[]) => [...a].sort((x, y) => x - y);

test('sampler: batches are [labelled…, unlabelled…], every labelled index once per epoch', () => {
  const s = new TwoStreamBatchSampler({ nLabeled: 16, nTotal: 80, labeledBatch: 2, unlabeledBatch: 2 }, new Generator(1337));
  assert.is(s.batchesPerEpoch, 8);
  for (let epoch = 1; epoch <= 5; epoch++) {
    const labelled: number[] = [], unlabelled: number[] = [];
    for (let b = 0; b < 8; b++) {
      const batch = s.next();
      assert.is(s.epoch, epoch);
      assert.is(batch.length, 4);
      for (const i of batch.slice(0, 2)) assert.ok(i >= 0 && i < 16, `labelled ${i}`);
      for (const i of batch.slice(2)) assert.ok(i >= 16 && i < 80, `unlabelled ${i}`);
      labelled.push(...batch.slice(0, 2));
      unlabelled.push(...batch.slice(2));
    }
    assert.equal(sorted(labelled), range(0, 16));
    assert.is(new Set(unlabelled).size, 16, 'no unlabelled case twice within one permutation');
  }
});

test('sampler: a short labelled remainder is dropped', () => {
  const s = new TwoStreamBatchSampler({ nLabeled: 7, nTotal: 7, labeledBatch: 2, unlabeledBatch: 0 }, new Generator(3));
  assert.is(s.batchesPerEpoch, 3);
  for (let epoch = 0; epoch < 4; epoch++) {
    const seen = [s.next(), s.next(), s.next()].flat();
    assert.is(new Set(seen).size, 6);
    assert.is(s.epoch, epoch + 1);
  }
});

test('sampler: the unlabelled chain runs across permutations and restarts every epoch', () => {
  // Script always answers 0, so each Fisher–Yates permutation of [a, …, b] is [a+1, …, b, a] and
  // costs the draws n, n−1, …, 2.
  const g = new Script();
  const s = new TwoStreamBatchSampler({ nLabeled: 4, nTotal: 9, labeledBatch: 2, unlabeledBatch: 3 }, g);
  const L = [4, 3, 2], U = [5, 4, 3, 2];
  assert.equal(s.next(), [1, 2, 5, 6, 7]);
  assert.equal(g.bounds, [...L, ...U]);
  g.bounds = [];
  // Two unlabelled left in the permutation, then one from a fresh one.
  assert.equal(s.next(), [3, 0, 8, 4, 5]);
  assert.equal(g.bounds, U);
  g.bounds = [];
  // New epoch: the rest of the unlabelled permutation (6, 7, …) is dropped for a fresh one.
  assert.equal(s.next(), [1, 2, 5, 6, 7]);
  assert.equal(g.bounds, [...L, ...U]);
});

test('sampler: supervised (unlabeledBatch 0) yields labelled indices only and draws nothing else', () => {
  const g = new Script();
  const s = new TwoStreamBatchSampler({ nLabeled: 5, nTotal: 20, labeledBatch: 2, unlabeledBatch: 0 }, g);
  assert.equal([s.next(), s.next(), s.next()], [[1, 2], [3, 4], [1, 2]]);
  assert.equal(g.bounds, [5, 4, 3, 2, 5, 4, 3, 2]);
});

test('sampler: getState / setState through JSON continue the identical sequence', () => {
  const opts = { nLabeled: 5, nTotal: 12, labeledBatch: 2, unlabeledBatch: 3 };
  for (const cut of [0, 1, 2, 3, 7, 10]) {
    const g = new Generator(42);
    const s = new TwoStreamBatchSampler(opts, g);
    for (let i = 0; i < cut; i++) s.next();
    const saved = JSON.stringify({ sampler: s.getState(), g: g.getState() });
    const want = Array.from({ length: 25 }, () => s.next());
    const g2 = new Generator(999);
    const s2 = new TwoStreamBatchSampler(opts, g2);
    s2.next();
    const { sampler, g: gs } = JSON.parse(saved);
    g2.setState(gs);
    s2.setState(sampler);
    assert.equal(Array.from({ length: 25 }, () => s2.next()), want, `resumed after ${cut} batches`);
    assert.is(s2.epoch, s.epoch);
  }
});

test('sampler: clear errors', () => {
  const g = new Generator(0);
  const make = (o: Partial<{ nLabeled: number; nTotal: number; labeledBatch: number; unlabeledBatch: number }>) =>
    () => new TwoStreamBatchSampler({ nLabeled: 4, nTotal: 10, labeledBatch: 2, unlabeledBatch: 2, ...o }, g);
  assert.throws(make({ nLabeled: 1 }), /^voxgrad: .*1 labelled cases cannot fill a labelled batch of 2/);
  assert.throws(make({ nTotal: 5 }), /^voxgrad: .*1 unlabelled cases cannot fill an unlabelled batch of 2/);
  assert.throws(make({ labeledBatch: 0 }), /^voxgrad: .*labeledBatch/);
  assert.throws(make({ unlabeledBatch: 1.5 }), /^voxgrad: .*unlabeledBatch/);
  assert.throws(make({ nTotal: 3, unlabeledBatch: 0 }), /^voxgrad: .*nTotal/);
  const s = make({})();
  const st = s.getState();
  assert.throws(() => make({ unlabeledBatch: 1 })().setState(st), /^voxgrad: .*unlabeledBatch/);
  s.next();
  const bad = { ...s.getState(), labeled: [0, 1, 1, 2] };
  assert.throws(() => s.setState(bad), /^voxgrad: .*permutation/);
  assert.throws(() => s.setState({ ...s.getState(), unlabeledPos: 99 }), /^voxgrad: .*position/);
});

test.run();
