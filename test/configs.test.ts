// The shipped configs (configs/*.json): each parses, names lists that exist with enough cases, and
// "extends" merges a base field by field.
import { existsSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readList } from '../datasets/list.ts';
import { configJson, loadConfig } from '../train/loop/config-file.ts';
import { repoRoot } from './helpers/fixtures.ts';

const dir = `${repoRoot}configs`;

for (const file of readdirSync(dir).filter((f) => f.endsWith('.json'))) {
  test(`configs/${file} is valid and its case lists hold what it asks for`, async () => {
    const c = loadConfig(join(dir, file));
    assert.ok(existsSync(c.data.root), `${c.data.root} exists`);
    const train = await readList(c.data.train);
    const unlabeled = c.method === 'supervised' ? 0 : c.batch.unlabeled;
    assert.ok(train.length >= c.data.labeled + unlabeled, `${train.length} listed for ${c.data.labeled} labelled`);
    if (c.data.validation) {
      const val = await readList(c.data.validation);
      assert.ok(val.length > 0);
      // validation cases are never trained on with their labels
      assert.ok(val.every((id) => !train.slice(0, c.data.labeled).includes(id)), 'a validation case is labelled for training');
    }
  });
}

test('every config written back as a file (configJson, paths relative to its new folder) loads as the same config', () => {
  const elsewhere = mkdtempSync(join(tmpdir(), 'voxgrad-config-json-'));
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.json'))) {
    const c = loadConfig(join(dir, file));
    const path = join(elsewhere, file);
    writeFileSync(path, JSON.stringify(configJson({ ...c, seed: 3 }, elsewhere)));
    assert.equal({ ...loadConfig(path), file: '' }, { ...c, seed: 3, file: '' }, file);
  }
});

test('the paper config is the paper setting; the supervised baseline extends the UG-MCL one', () => {
  const la = loadConfig(join(dir, 'la-16.json'));
  assert.equal([la.patch, la.iterations, la.data.labeled, la.batch, la.model.nFilters, la.ugmcl.passes, la.ugmcl.beta],
               [[112, 112, 80], 6000, 16, { labeled: 2, unlabeled: 2 }, 16, 8, 0.75]);
  assert.equal([la.optimizer.base, la.optimizer.momentum, la.optimizer.weightDecay, la.optimizer.step, la.optimizer.gamma], [0.01, 0.9, 1e-4, 2500, 0.1]);
  const u = loadConfig(join(dir, 'hippocampus-ugmcl.json')), s = loadConfig(join(dir, 'hippocampus-supervised.json'));
  assert.is(s.method, 'supervised');
  assert.equal({ ...s, file: '', name: '', method: u.method }, { ...u, file: '', name: '' });
});

test('"extends": sections merge field by field; a cycle is refused', () => {
  const tmp = mkdtempSync(join(tmpdir(), 'voxgrad-configs-'));
  writeFileSync(join(tmp, 'base.json'), JSON.stringify({ method: 'ugmcl', data: { root: tmp, train: 'x.list', labeled: 2 }, patch: [16, 16, 16],
                                                       iterations: 10, ugmcl: { beta: 0.5, dis: 'dice' } }));
  writeFileSync(join(tmp, 'child.json'), JSON.stringify({ extends: 'base.json', ugmcl: { beta: 1 }, iterations: 20 }));
  const c = loadConfig(join(tmp, 'child.json'));
  assert.equal([c.ugmcl.beta, c.ugmcl.dis, c.iterations, c.patch], [1, 'dice', 20, [16, 16, 16]]);
  writeFileSync(join(tmp, 'a.json'), JSON.stringify({ extends: 'b.json' }));
  writeFileSync(join(tmp, 'b.json'), JSON.stringify({ extends: 'a.json' }));
  assert.throws(() => loadConfig(join(tmp, 'a.json')), /"extends" forms a cycle/);
  const v = loadConfig(join(tmp, 'child.json'));
  assert.is(v.ugmcl.variant, 'paper');
  writeFileSync(join(tmp, 'code.json'), JSON.stringify({ extends: 'base.json', ugmcl: { variant: 'code' } }));
  const code = loadConfig(join(tmp, 'code.json'));
  assert.equal([code.ugmcl.supWeight, code.ugmcl.itcScale, code.ugmcl.dis, code.ugmcl.beta], [0.5, 0.25, 'dice', 0.5],
               'explicit fields win over the variant preset');
});

test.run();
