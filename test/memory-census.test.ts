// The census of live tensors at a computation's peak (engine/memory-census.ts): the groups it names,
// their bytes, and the moment it keeps (the peak, not the end).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as vg from '../index.ts';

test('the census names the tensors alive at the peak by op and shape, not those alive at the end', async () => {
  await vg.setBackend('ref');
  const x = vg.randn([500, 500], new vg.Generator(1));
  x.requiresGrad = true;
  const { result, census } = await vg.censusAtPeak(() => {
    const big = vg.scope(() => {
      const ys = [0, 1, 2].map((k) => vg.mul(x, k + 2)); // three taped 500×500 products
      const z = vg.exp(ys[0]);
      return vg.sum(vg.add(z, vg.add(ys[1], ys[2])));
    });
    // after the scope only the scalar is left; a later, smaller peak must not replace the census
    const small = vg.scope(() => vg.sum(vg.exp(vg.zeros([10, 10]))));
    return [big, small];
  });
  const row = (op: string) => census.rows.find((r) => r.op === op && r.shape === '500×500');
  assert.is(row('mul')?.count, 3, 'three products alive at the peak');
  assert.is(row('mul')?.bytes, 3 * 500 * 500 * 4);
  assert.is(row('exp')?.count, 1);
  assert.ok(census.rows[0].bytes >= census.rows[census.rows.length - 1].bytes, 'largest groups first');
  assert.ok(census.live >= 5 * 500 * 500 * 4 && census.outsideScopes >= 500 * 500 * 4,
            `live ${census.live}, outside scopes ${census.outsideScopes} (x itself)`);
  for (const t of [...result, x]) t.dispose();
});

test('no census runs after censusAtPeak returns', async () => {
  await vg.setBackend('ref');
  const { census } = await vg.censusAtPeak(() => 0);
  const before = census.live;
  vg.zeros([1000, 1000]).dispose();
  assert.is(census.live, before);
});

test.run();
