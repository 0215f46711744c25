// WebGPU memory known before running: the accounting mode (a stand-in device on which the backend
// creates, pools and frees buffers as on a real one, running nothing) gives a real device's peaks and
// largest buffer exactly, here SwiftShader's on a small patch; a configuration whose largest buffer
// exceeds the adapter's binding limit (forced small here) or whose peak exceeds --gpu-memory is
// refused before training, naming the figures.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as vg from '../index.ts';
import { withBackend } from '../engine/registry.ts';
import { createWebGPUBackend, type WebGPUBackend } from '../engine/backends/webgpu/index.ts';
import { loadConfig } from '../train/loop/config-file.ts';
import { checkGpuMemory, measureIterationPeak } from '../train/loop/memory-estimate.ts';
import { createMethod } from '../train/methods/index.ts';
import { repoRoot } from './helpers/fixtures.ts';

const dir = mkdtempSync(join(tmpdir(), 'voxgrad-gpumem-'));
const data = `${repoRoot}data/hippocampus`;
writeFileSync(join(dir, 'train.list'), 'hippocampus_001.nii.gz\nhippocampus_003.nii.gz\nhippocampus_006.nii.gz\nhippocampus_011.nii.gz\n');
const configFile = join(dir, 'small.json');
writeFileSync(configFile, JSON.stringify({
  name: 'small', method: 'ugmcl', model: { nFilters: 4 }, patch: [16, 32, 16], iterations: 2, validation: { every: 0 }, checkpoint: { every: 2 },
  data: { root: data, train: 'train.list', labeled: 2 },
}));

test('accounting mode: one UG-MCL iteration holds exactly what it holds on a real device (SwiftShader)', async () => {
  let device: vg.Backend;
  try {
    device = await createWebGPUBackend({ hardwareOnly: false });
  } catch (e) {
    if (process.env.CI) throw e;
    console.log(`  (skipped: no WebGPU adapter here: ${(e as Error).message})`);
    return;
  }
  const accountant = await device.accountant!();
  assert.is(accountant.name, 'webgpu-accounting');
  const config = loadConfig(configFile), method = createMethod(config);
  for (const held of ['live', 'reserved'] as const) {
    const onDevice = withBackend(device, () => measureIterationPeak(config, method, config.patch, device, held));
    const counted = withBackend(accountant, () => measureIterationPeak(config, method, config.patch, accountant, held));
    assert.ok(onDevice > 1e6, `${held}: ${onDevice} bytes`);
    assert.is(counted, onDevice, `${held} bytes`);
  }
  assert.is(accountant.largestBuffer!(), device.largestBuffer!());
  accountant.dispose?.();
  device.dispose?.();
});

test('a binding limit below the largest buffer refuses the run before training, naming both; at the limit no buffer exceeds it', async () => {
  const gpu = (maxBindingBytes?: number) => createWebGPUBackend({ hardwareOnly: false, maxBindingBytes }) as Promise<WebGPUBackend>;
  let device: WebGPUBackend;
  try {
    device = await gpu();
  } catch (e) {
    if (process.env.CI) throw e;
    console.log(`  (skipped: no WebGPU adapter here: ${(e as Error).message})`);
    return;
  }
  const config = loadConfig(configFile), method = createMethod(config);
  const need = (await checkGpuMemory(config, method, device))!.largestBinding;
  device.dispose();
  const MiB = (b: number) => `${(b / 2 ** 20).toFixed(1)} MiB \\(${b} bytes\\)`;

  const below = await gpu(need - 16);
  try {
    await checkGpuMemory(config, method, below);
    assert.unreachable('refused');
  } catch (e) {
    assert.match((e as Error).message, new RegExp(`small\\.json: one ugmcl iteration at patch 16×32×16, batch 2\\+2, 4 filters needs a buffer of ` +
                                                  `${MiB(need)} on webgpu, above this adapter's largest binding of ${MiB(need - 16)}`));
  }
  below.dispose();

  const at = await gpu(need);
  assert.ok(await checkGpuMemory(config, method, at));
  withBackend(at, () => measureIterationPeak(config, method, config.patch, at));
  await at.sync();
  assert.is(at.largestBinding(), need, 'the device asks for what the accountant counted');
  assert.ok(at.largestBuffer() <= need, `no buffer above the limit: ${at.largestBuffer()} > ${need}`);
  assert.throws(() => at.alloc(need / 4 + 4), /exceeds this adapter's maxStorageBufferBindingSize/);
  at.dispose();
});

test('accounting mode needs no GPU and says its values are meaningless', async () => {
  await vg.setBackend('webgpu-accounting');
  const be = vg.getBackend() as vg.Backend & { adapterName: string };
  assert.match(be.adapterName, 'values meaningless');
  const y = vg.add(vg.tensor(new Float32Array([1, 2, 3]), [3]), 1);
  assert.equal([...(await y.data())], [0, 0, 0]);
  vg.disposeBackends();
});

test('voxgrad train on webgpu refuses a configuration over its --gpu-memory budget before training', () => {
  const out = join(dir, 'refused');
  const r = spawnSync(process.execPath, [`${repoRoot}dist/cli.js`, 'train', '--config', configFile, '--backend', 'webgpu', '--out', out,
                                         '--gpu-memory', '0.001'], { encoding: 'utf8' });
  if (r.status !== 0 && /no WebGPU adapter/.test(r.stderr) && !process.env.CI) return;
  assert.is(r.status, 1, r.stderr);
  assert.match(r.stderr, /small\.json: one ugmcl iteration at patch 16×32×16, batch 2\+2, 4 filters holds about 0\.\d\d GiB of GPU buffers, above the --gpu-memory budget of 0\.00 GiB/);
  assert.not.match(r.stderr, 'iteration 1');
  // one cheap iteration that fits (supervised: no teacher passes on the emulated device)
  const supervised = join(dir, 'small-supervised.json');
  writeFileSync(supervised, JSON.stringify({ extends: 'small.json', name: 'small-supervised', method: 'supervised' }));
  const ok = spawnSync(process.execPath, [`${repoRoot}dist/cli.js`, 'train', '--config', supervised, '--backend', 'webgpu', '--out', join(dir, 'fits'),
                                          '--gpu-memory', '4', '--iterations', '1'], { encoding: 'utf8' });
  assert.is(ok.status, 0, ok.stderr);
  assert.match(ok.stderr + ok.stdout, /memory: one iteration holds about 0\.\d\d GiB of GPU buffers \(budget 4\.00 GiB\), the largest \d+ MiB of the \d+ MiB the adapter binds/);
});

test.run();
