// A lost GPU device mid-run (SwiftShader's, destroyed from outside the engine after an iteration):
// training stops with one message that says the device was lost and that the last checkpoint is
// intact, and a fresh device resumed from that checkpoint ends with the weights of a run that was
// never interrupted.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as vg from '../index.ts';
import { loadConfig } from '../train/loop/config-file.ts';
import { train } from '../train/loop/trainer.ts';
import { useBackend } from './helpers/backends.ts';
import { repoRoot } from './helpers/fixtures.ts';

const dir = mkdtempSync(join(tmpdir(), 'voxgrad-lost-'));
const data = `${repoRoot}data/hippocampus`;
writeFileSync(join(dir, 'train.list'), readFileSync(`${data}/train.list`, 'utf8').trim().split('\n').slice(0, 4).join('\n'));
writeFileSync(join(dir, 'c.json'), JSON.stringify({
  name: 'lost', method: 'supervised', model: { nFilters: 2 }, patch: [16, 16, 16], iterations: 6,
  data: { root: data, train: 'train.list', labeled: 4 }, validation: { every: 0 }, checkpoint: { every: 2 },
}));
const config = loadConfig(join(dir, 'c.json'));

test('a device lost mid-run stops training clearly; --resume on a fresh device reaches the uninterrupted weights', async () => {
  if (!(await useBackend('webgpu'))) return;
  await train(config, { outDir: join(dir, 'whole') });

  vg.disposeBackends();
  await vg.setBackend('webgpu');
  const out = join(dir, 'lost');
  const device = (vg.getBackend() as unknown as { device: GPUDevice }).device;
  const err = await train(config, {
    outDir: out,
    // after iteration 3 (0-based), past the checkpoint at 2 iterations and before the one at 4
    onEvent: (e) => { if (e.kind === 'iteration' && e.record.iteration === 2) device.destroy(); },
  }).then(() => null, (e: Error) => e);
  assert.ok(err, 'training went on after the device was lost');
  assert.match(err!.message, /voxgrad webgpu: the GPU device was lost \(destroyed/);
  assert.match(err!.message, new RegExp(`the last checkpoint \\(${out}/checkpoint\\.safetensors\\) is intact: --resume continues from it`));
  assert.is(vg.decodeSafetensors(readFileSync(join(out, 'checkpoint.safetensors'))).metadata.iteration, '2');

  vg.disposeBackends();
  await vg.setBackend('webgpu');
  await train(config, { outDir: out, resume: true });
  const a = vg.decodeSafetensors(readFileSync(join(dir, 'whole', 'model.safetensors')));
  const b = vg.decodeSafetensors(readFileSync(join(out, 'model.safetensors')));
  for (const [name, t] of a.tensors) assert.equal([...b.tensors.get(name)!.data], [...t.data], name);
  vg.disposeBackends();
});

test.run();
