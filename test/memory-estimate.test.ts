// The up-front memory estimate of a training iteration (train/loop/memory-estimate.ts) against the
// peak of the same iteration measured at the configured patch, on the backend with a bound (wasm).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as vg from '../index.ts';
import { parseConfig } from '../train/loop/config.ts';
import { ESTIMATE_MARGIN, estimateIterationMemory, measureIterationPeak } from '../train/loop/memory-estimate.ts';
import { createMethod } from '../train/methods/index.ts';
import { repoRoot } from './helpers/fixtures.ts';

for (const method of ['supervised', 'ugmcl'] as const) {
  test(`${method}: the estimate from two small probes is within 15 % of the measured peak at 64×64×48`, async () => {
    await vg.setBackend('wasm');
    const config = parseConfig({ name: 'estimate', method, iterations: 1, model: { nFilters: 8 }, patch: [64, 64, 48],
                                 data: { root: `${repoRoot}data/hippocampus`, train: 'train.list', labeled: 4 } },
                               'estimate.json', (p) => p);
    const m = createMethod(config), be = vg.getBackend();
    const estimate = estimateIterationMemory(config, m, be)!;
    const measured = measureIterationPeak(config, m, config.patch, be);
    const predicted = estimate.bytes / ESTIMATE_MARGIN;
    assert.is(estimate.limit, 4 * 1024 ** 3);
    assert.ok(Math.abs(predicted - measured) < 0.15 * measured,
              `predicted ${(predicted / 2 ** 20).toFixed(0)} MiB, measured ${(measured / 2 ** 20).toFixed(0)} MiB`);
    assert.ok(estimate.bytes > measured, 'the margin keeps the estimate above the measurement');
  });
}

test('no estimate on a backend without a bound', async () => {
  await vg.setBackend('ref');
  const config = parseConfig({ name: 'estimate', method: 'supervised', iterations: 1, patch: [32, 32, 32],
                               data: { root: `${repoRoot}data/hippocampus`, train: 'train.list', labeled: 4 } }, 'estimate.json', (p) => p);
  assert.is(estimateIterationMemory(config, createMethod(config), vg.getBackend()), null);
});

test.after(() => vg.disposeBackends());
test.run();
