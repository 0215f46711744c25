// A step whose loss is not finite changes nothing: not the weights, not the optimiser's momentum, and
// (with restoreBuffers, as --skip-nonfinite sets) not the batch-norm running statistics that its
// forward pass moved. Without restoreBuffers those statistics do move, which is why it exists.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as vg from '../index.ts';
import { GeneratorDraws } from '../train/draws.ts';
import { NonFiniteLossError, trainingStep } from '../train/loop/step.ts';
import type { TrainBatch } from '../train/methods/method.ts';
import { Supervised } from '../train/methods/supervised.ts';
import { Sgd } from '../train/optim/sgd.ts';

const S = 16;
/** A batch whose forward pass is finite; a NaN in its label makes only the loss NaN, after the forward moved the statistics. */
function batch(poisoned: boolean): () => TrainBatch {
  return () => ({
    image: vg.tensor(Float32Array.from({ length: 2 * S ** 3 }, (_, i) => Math.sin(i * 0.37)), [2, 1, S, S, S]),
    label: vg.tensor(Float32Array.from({ length: 2 * S ** 3 }, (_, i) => (poisoned && i === 123 ? NaN : i % 7 < 3 ? 1 : 0)), [2, S, S, S]),
    nLabeled: 2,
  });
}
const finite = batch(false), poisoned = batch(true);

async function snapshot(net: vg.nn.VNet, sgd: Sgd) {
  const out = new Map<string, number[]>();
  for (const [k, t] of net.stateDict()) out.set(k, [...new Uint32Array((await t.data()).slice().buffer)]);
  for (const [k, t] of sgd.momentum) out.set(`momentum/${k}`, [...new Uint32Array((await t.data()).slice().buffer)]);
  return out;
}

for (const restoreBuffers of [true, false]) {
  test(`a NaN in the batch: the step throws before the update${restoreBuffers ? ' and leaves every tensor as it was' : '; without restoreBuffers the BN statistics move'}`, async () => {
    await vg.setBackend('wasm');
    const student = new vg.nn.VNet({ nChannels: 1, nClasses: 2, nFilters: 2, hasDropout: true, heads: 'seg+sdm', seed: 3 });
    const sgd = new Sgd(student.namedParameters(), { momentum: 0.9, weightDecay: 1e-4 });
    const parts = { method: new Supervised({ supWeight: 1 }), student, teacher: null, sgd,
                    draws: new GeneratorDraws(new vg.Generator(5), { std: 0.1, clip: 0.2 }), restoreBuffers };
    await trainingStep(parts, 0, 0.01, 0.99, finite); // momentum and statistics away from their defaults
    const before = await snapshot(student, sgd);
    const err = await trainingStep(parts, 1, 0.01, 0.99, poisoned).then(() => null, (e: Error) => e);
    assert.ok(err instanceof NonFiniteLossError, `expected a NonFiniteLossError, got ${err}`);
    assert.ok(Number.isNaN((err as NonFiniteLossError).values.loss));
    const after = await snapshot(student, sgd);
    const changed = [...before.keys()].filter((k) => before.get(k)!.some((v, i) => v !== after.get(k)![i]));
    if (restoreBuffers) assert.equal(changed, [], 'tensors changed by a skipped step');
    else assert.ok(changed.length > 0 && changed.every((k) => /running_(mean|var)|num_batches_tracked/.test(k)), `changed: ${changed.join(', ')}`);
    sgd.dispose();
    student.dispose();
  });
}

test.run();
