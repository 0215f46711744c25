// The models shipped in models/: each loads into PyTorch's V-Net with strict names and shapes and
// gives PyTorch's outputs (fixture from test/fixtures/make_shipped_models.py), loads in voxgrad's
// CLI, and `voxgrad evaluate` of it on its validation list equals the results file that shipped it.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as vg from '../index.ts';
import { loadModel } from '../cli/model.ts';
import { assertClose } from './helpers/compare.ts';
import { repoRoot } from './helpers/fixtures.ts';
import { requireSharedData } from './helpers/data.ts';

interface Expected { patch: [number, number, number]; step: number; seg: number[]; sdm: number[] }
const fixture = JSON.parse(readFileSync(`${repoRoot}test/fixtures/shipped_models.json`, 'utf8')) as Record<string, Expected>;
const shipped = readdirSync(`${repoRoot}models`).filter((f) => f.endsWith('.safetensors'));
const dir = mkdtempSync(join(tmpdir(), 'voxgrad-shipped-'));

test('every shipped model has a PyTorch fixture and is at most 10 MB', () => {
  assert.equal(Object.keys(fixture).sort(), shipped.sort(), 'rerun test/fixtures/make_shipped_models.py');
  for (const f of shipped) assert.ok(readFileSync(`${repoRoot}models/${f}`).length <= 10e6, f);
});

for (const f of shipped) {
  test(`${f}: voxgrad's outputs equal PyTorch's after its strict load`, async () => {
    const e = fixture[f];
    const { net } = await loadModel(`${repoRoot}models/${f}`, 'wasm');
    const [X, Y, Z] = e.patch;
    const x = new Float32Array(X * Y * Z);
    for (let i = 0; i < X; i++) for (let j = 0; j < Y; j++) for (let k = 0; k < Z; k++) {
      x[(i * Y + j) * Z + k] = Math.sin(0.3 * i) + Math.cos(0.2 * j) * Math.sin(0.1 * k);
    }
    const out = net.forward(vg.tensor(x, [1, 1, X, Y, Z]), { dropout: false });
    const every = (a: Float32Array) => a.filter((_, i) => i % e.step === 0);
    assertClose(every(await out.seg.data()), e.seg, 1e-5, `${f} seg`);
    assertClose(every(await out.sdm!.data()), e.sdm, 1e-5, `${f} sdm`);
    net.dispose();
  });
}

for (const r of readdirSync(`${repoRoot}experiments/results`).filter((n) => n.endsWith('.json'))) {
  const res = JSON.parse(readFileSync(`${repoRoot}experiments/results/${r}`, 'utf8'));
  if (!res.model) continue;
  test(`voxgrad evaluate of ${res.model} on ${res.validation.list} equals ${r}`, () => {
    requireSharedData();
    const ev = spawnSync(process.execPath, [`${repoRoot}dist/cli.js`, 'evaluate', '--checkpoint', join(repoRoot, 'experiments', res.model),
      '--data', join(repoRoot, 'experiments', res.config.data.root), '--list', join(repoRoot, 'experiments', res.validation.list),
      '--backend', res.backend, '--out', join(dir, r)], { encoding: 'utf8', env: { ...process.env, VOXGRAD_THREADS: String(res.threads) } });
    assert.is(ev.status, 0, ev.stderr);
    const report = JSON.parse(readFileSync(join(dir, r, 'evaluation.json'), 'utf8'));
    assert.equal(report.cases, res.validation.perCase);
    assert.equal(report.mean, res.validation.mean);
  });
}

test.run();
