// bench/gpu.sh --smoke in fake-bare mode, as on the GPU machine but with stand-ins: Node is off the
// PATH (the kit's own runs), the Vulkan loader is the kit's .deb, SwiftShader stands in for the GPU and
// CPU torch for CUDA. Every phase must finish and write its JSON with the fields the diagnostic
// promises, then gpu.md; and the kit plus the tree a device call copies must fit its 64 MiB.
// Needs the prepared kit's node.xz and libvulkan .deb (sh bench/gpu-prepare.sh, which needs network);
// the bundles are packed afresh from build/bench so that the code under test is this checkout's.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot } from './helpers/fixtures.ts';

const test = suite('gpu-phases');
const prepared = join(repoRoot, 'bench/gpu-kit');
const deb = existsSync(prepared) ? readdirSync(prepared).find((f) => /^libvulkan1_.*\.deb$/.test(f)) : undefined;
const root = mkdtempSync(join(tmpdir(), 'voxgrad-gpu-phases-'));
const MiB = 2 ** 20;

/** A PATH of every tool in /usr/bin and /bin but Node's. */
function bareBin(): string {
  const bin = join(root, 'bin');
  mkdirSync(bin);
  for (const dir of ['/usr/bin', '/bin', '/usr/sbin', '/sbin']) {
    if (!existsSync(dir)) continue;
    for (const f of readdirSync(dir)) {
      if (/^(node|nodejs|npm|npx|corepack)$/.test(f) || existsSync(join(bin, f))) continue;
      symlinkSync(join(dir, f), join(bin, f));
    }
  }
  return bin;
}

/** What a device call copies once models/ and experiments/ are aside (bench/gpu-aside.sh's count, without them). */
function treeBytes(): number {
  const files = (args: string[]) => spawnSync('git', ['ls-files', '-z', ...args], { cwd: repoRoot, encoding: 'utf8' }).stdout.split('\0');
  return [...files([]), ...files(['--others', '--exclude-standard'])]
    .filter((f) => f && !/^(models|experiments)\//.test(f) && existsSync(join(repoRoot, f)))
    .reduce((s, f) => s + statSync(join(repoRoot, f)).size, 0);
}

const phases = ['environment', 'correctness', 'ceilings', 'layers', 'ablations', 'steps'];

test('bench/gpu.sh --smoke without Node on the PATH: every phase writes its JSON, then gpu.md; kit + tree < 64 MiB', () => {
  if (!deb || !existsSync(join(prepared, 'node.xz'))) {
    console.log('  gpu-phases: no prepared kit (sh bench/gpu-prepare.sh, with network): not run');
    return;
  }
  const kit = join(root, 'kit');
  mkdirSync(kit);
  for (const f of ['node.xz', deb, 'kit.txt']) if (existsSync(join(prepared, f))) symlinkSync(join(prepared, f), join(kit, f));
  const app = join(root, 'app');
  mkdirSync(join(app, 'build/bench'), { recursive: true });
  mkdirSync(join(app, 'node_modules/webgpu/dist/linux-x64'), { recursive: true });
  for (const f of readdirSync(join(repoRoot, 'build/bench')).filter((f) => f.endsWith('.js'))) {
    writeFileSync(join(app, 'build/bench', f), readFileSync(join(repoRoot, 'build/bench', f)));
  }
  for (const f of ['package.json', 'index.js', 'dist/linux-x64/dawn.node']) {
    writeFileSync(join(app, 'node_modules/webgpu', f), readFileSync(join(repoRoot, 'node_modules/webgpu', f)));
  }
  const tar = spawnSync('sh', ['-c', `tar -cf - -C "${app}" build node_modules | xz -9 -T0 > "${kit}/app.tar.xz"`]);
  assert.is(tar.status, 0, String(tar.stderr));

  const kitBytes = ['node.xz', deb, 'app.tar.xz'].reduce((s, f) => s + statSync(join(kit, f)).size, 0);
  const tree = treeBytes();
  console.log(`  gpu-phases: kit ${(kitBytes / MiB).toFixed(1)} MiB (node.xz, ${deb}, app.tar.xz of this build) + ` +
              `tree ${(tree / MiB).toFixed(1)} MiB without models/ and experiments/ = ${((kitBytes + tree) / MiB).toFixed(1)} MiB`);
  assert.ok(kitBytes + tree < 64 * MiB, 'a device call copies at most 64 MiB');

  const out = join(root, 'out'), work = join(root, 'work');
  const { VK_ICD_FILENAMES: _a, VK_DRIVER_FILES: _b, ...env } = process.env;
  const t0 = Date.now();
  const r = spawnSync('sh', ['bench/gpu.sh', '--smoke', out], {
    cwd: repoRoot, encoding: 'utf8', maxBuffer: 1 << 26,
    env: { ...env, PATH: bareBin(), PYTHON: '/usr/bin/python3', GPU_KIT: kit, GPU_WORK: work },
  });
  console.log(`  gpu-phases: sh bench/gpu.sh --smoke took ${((Date.now() - t0) / 1000).toFixed(0)} s`);
  assert.is(r.status, 0, `${r.stdout.slice(-3000)}\n${r.stderr.slice(-2000)}`);
  assert.match(r.stdout, /node v\d+\.\d+\.\d+ from the kit/);
  assert.match(readFileSync(join(out, 'adapter.txt'), 'utf8'), new RegExp(`libvulkan: ${work}/vulkan/`), 'the kit\'s loader, not the system\'s');

  const json = Object.fromEntries(phases.map((p, i) => [p, JSON.parse(readFileSync(join(out, `phase-${i + 1}-${p}.json`), 'utf8'))]));
  for (const p of phases) {
    assert.is(json[p].error, undefined, `${p}: ${json[p].error}`);
    assert.match(json[p].mode, /^smoke/);
  }
  const env1 = json.environment;
  assert.ok(env1.backend.software && !env1.refused && /SwiftShader/.test(env1.softwareAllowed), 'software adapter allowed only as smoke, and said so');
  assert.ok(env1.limits.maxBufferSize > 0 && env1.features.length > 0 && 'min' in env1.subgroups && 'nvidiaSmi' in env1.driver);

  const c = json.correctness;
  assert.type(c.pass, 'boolean');
  assert.ok(c.relu.pass, 'ReLU passes NaN');
  assert.is(c.reductions.length, 3);
  for (const r of c.reductions) assert.ok(r.pass && typeof r.torchSemantics === 'boolean', `max/argmax ${r.path}: ${JSON.stringify(r.argmax)}`);
  for (const k of ['matmul', 'weightGrad']) {
    assert.ok(c.longK[k].k >= 65536 && c.longK[k].compensated, `${k}: ${c.longK[k].relErrorUlps} ulp against ${c.longK[k].plainFloat32Ulps}`);
  }
  assert.ok(c.vnet.pass && c.vnet.tensors > 10, `V-Net parity: ${c.vnet.forwardError}, ${c.vnet.gradientError}`);

  const ceil = json.ceilings;
  assert.ok(ceil.torch.tflops > 0 && ceil.copy.gbPerSecond > 0 && ceil.oursMatmul.tflops > 0);
  assert.ok(ceil.plainWgsl.correct, `plain SGEMM row 0 error ${ceil.plainWgsl.row0RelError}`);

  const layers = json.layers;
  assert.is(layers.rows.length, 11 * 3, 'every layer, three passes');
  for (const row of layers.rows) {
    assert.ok(row.plan.m > 0 && row.plan.n > 0 && row.plan.k > 0 && row.plan.tile.length === 2 && row.plan.splits >= 1 && 'A_VEC' in row.plan.vec);
    assert.ok(row.ours.median > 0 && row.torch.median > 0 && row.ratioToCudnn > 0 && row.ofSgemmCeiling > 0, row.layer);
  }
  assert.ok(layers.rows.some((r: { plan: { route: string } }) => r.plan.route === 'split-k') &&
            layers.rows.some((r: { plan: { route: string } }) => r.plan.route === 'taps'), 'the routes reported');

  const ab = json.ablations;
  const whats = ab.rows.flatMap((r: { variants: { what: string }[] }) => r.variants.map((v) => v.what)).join('\n');
  assert.match(whats, /plain matmul/);
  assert.match(whats, /^tile /m);
  assert.match(whats, /split-K target/);

  const steps = json.steps;
  assert.equal(steps.rows.map((r: { what: string }) => r.what), ['V-Net training step', 'UG-MCL iteration']);
  for (const row of steps.rows) {
    assert.ok(row.ours.median > 0 && row.torch.median > 0 && row.jsSeconds.median > 0 && row.oursPeakBytes > 0 && row.torchPeakBytes > 0, row.what);
    assert.ok(row.perStep.dispatches > 10 && row.perStep.submits >= 1, `${row.what}: ${JSON.stringify(row.perStep)}`);
  }

  const md = readFileSync(join(out, 'gpu.md'), 'utf8');
  for (const [i, p] of phases.entries()) assert.match(md, new RegExp(`## ${i + 1}\\. ${p}\\n\\n(Mode: smoke|Did not)`));
  assert.not.match(md, /Did not finish|Failed:|could not be made/);
});

test.after(() => rmSync(root, { recursive: true, force: true }));
test.run();
