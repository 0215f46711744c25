// The package as a user gets it: `npm pack` of this build, installed into a fresh project without
// the network, then used there: the public API type-checks against the shipped declarations (and a
// deliberate type error is caught), a bundled case is segmented with the shipped model on the wasm
// backend, the `voxgrad` command answers --help, and esbuild bundles a browser entry with no Node
// built-in in it. The consumer's files are test/consumer/.
//
// No network: `npm install` of the tarball would ask the registry for its dependencies' metadata,
// which `npm ci` never caches. The consumer gets a package-lock.json instead, with the tarball and
// this repository's locked entries for the package's dependencies (the non-dev ones), so that
// `npm ci --offline` installs them from the npm cache that this repository's `npm ci` filled.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot } from './helpers/fixtures.ts';

const test = suite('package');
const MAX_TARBALL = 25 * 1024 * 1024;
const consumerFixture = join(repoRoot, 'test', 'consumer');

interface PackedFile { path: string; size: number }
interface Packed { filename: string; size: number; unpackedSize: number; entryCount: number; files: PackedFile[] }

let dir = '';
let packed: Packed;
const manifest = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8'));

/**
 * npm as the running npm test invoked it (npm_execpath), else the one on PATH. Not with the outer npm's
 * settings for its script (npm_config_local_prefix would point the consumer's npm at this repository),
 * except where the cache and the user's and global npmrc are.
 */
const keepNpmVars = new Set(['npm_config_cache', 'npm_config_userconfig', 'npm_config_globalconfig', 'npm_config_cafile']);
const npmEnv = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^npm_/i.test(k) || keepNpmVars.has(k.toLowerCase())));
function npm(args: string[], cwd: string, timeout = 180_000): SpawnSyncReturns<string> {
  const execpath = process.env.npm_execpath;
  const [cmd, argv] = execpath && /\.c?js$/.test(execpath) ? [process.execPath, [execpath, ...args]] : ['npm', args];
  return spawnSync(cmd, argv, { cwd, encoding: 'utf8', timeout,
    env: { ...npmEnv, npm_config_audit: 'false', npm_config_fund: 'false', npm_config_update_notifier: 'false' } });
}

const show = (r: SpawnSyncReturns<string>) => `exit ${r.status}${r.signal ? ` (${r.signal})` : ''}\n${r.stdout}\n${r.stderr}`;

function newestMtime(path: string, keep: (name: string) => boolean): number {
  if (!existsSync(path)) return 0;
  const s = statSync(path);
  if (!s.isDirectory()) return keep(path) ? s.mtimeMs : 0;
  return Math.max(0, ...readdirSync(path).filter((n) => n !== 'node_modules').map((n) => newestMtime(join(path, n), keep)));
}

test.before(() => {
  // The package is this build's dist/ (npm test built it just before); packing with --ignore-scripts
  // skips prepack's rebuild, so first make sure no source is newer than what was built from it.
  const outputs = ['dist/index.js', 'dist/voxgrad.browser.js', 'dist/cli.js', 'dist/types/index.d.ts', 'dist/web/app.js', 'dist/web/models.json'];
  for (const f of outputs) assert.ok(existsSync(join(repoRoot, f)), `${f} is missing: run npm run build first`);
  const built = Math.min(...outputs.map((f) => statSync(join(repoRoot, f)).mtimeMs));
  const sourceDirs = ['engine', 'nn', 'io', 'infer', 'metrics', 'datasets', 'train', 'report', 'runner', 'cli', 'web', 'shaders', 'asm'];
  const sourceFiles = ['index.ts', 'cli.ts', 'types.d.ts', 'build.mjs', 'package.json', 'tsconfig.types.json'];
  const sources = Math.max(...sourceDirs.map((d) => newestMtime(join(repoRoot, d), (n) => /\.(ts|wgsl|wasm|html|css)$/.test(n))),
    ...sourceFiles.map((f) => newestMtime(join(repoRoot, f), () => true)));
  assert.ok(sources <= built, 'dist/ is older than the sources: run npm run build (or npm test) first');

  dir = mkdtempSync(join(tmpdir(), 'voxgrad-consumer-'));
  const pack = npm(['pack', '--ignore-scripts', '--json', '--pack-destination', dir], repoRoot);
  assert.is(pack.status, 0, `npm pack: ${show(pack)}`);
  packed = JSON.parse(pack.stdout)[0];

  const tarball = `file:${packed.filename}`;
  const lock = JSON.parse(readFileSync(join(repoRoot, 'package-lock.json'), 'utf8')).packages as Record<string, { dev?: boolean }>;
  const packages: Record<string, unknown> = {
    '': { name: 'voxgrad-consumer', dependencies: { voxgrad: tarball } },
    'node_modules/voxgrad': { version: manifest.version, resolved: tarball, license: manifest.license,
      dependencies: manifest.dependencies, bin: manifest.bin, engines: manifest.engines },
  };
  for (const [path, entry] of Object.entries(lock)) if (path && !entry.dev) packages[path] = entry;
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'voxgrad-consumer', private: true, type: 'module', dependencies: { voxgrad: tarball } }, null, 2));
  writeFileSync(join(dir, 'package-lock.json'), JSON.stringify({ name: 'voxgrad-consumer', lockfileVersion: 3, requires: true, packages }, null, 2));
  for (const f of readdirSync(consumerFixture)) copyFileSync(join(consumerFixture, f), join(dir, f));
  const install = npm(['ci', '--offline', '--no-audit', '--no-fund'], dir);
  assert.is(install.status, 0, `npm ci --offline in the consumer project: ${show(install)}`);
});

test.after(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

test('the tarball: dist, declarations, README, licences, data, the shipped models; no tests or sources; under 25 MB', () => {
  const paths = packed.files.map((f) => f.path);
  console.log(`  ${packed.filename}: ${(packed.size / 1e6).toFixed(1)} MB packed, ${(packed.unpackedSize / 1e6).toFixed(1)} MB unpacked, ${packed.entryCount} files`);
  assert.ok(packed.size <= MAX_TARBALL, `tarball is ${packed.size} bytes, over 25 MB`);
  for (const f of ['package.json', 'README.md', 'LICENSE', 'dist/index.js', 'dist/voxgrad.browser.js', 'dist/cli.js', 'dist/types/index.d.ts',
    'dist/web/index.html', 'dist/web/app.js', 'dist/web/train-worker.js', 'dist/web/models.json', 'configs/demo.json',
    'data/hippocampus/README.md', 'data/hippocampus/train.list', 'data/hippocampus/eval.list']) {
    assert.ok(paths.includes(f), `${f} is not in the tarball`);
  }
  const allowed = /^(package\.json|README\.md|LICENSE|configs\/demo\.json|dist\/(index|cli|voxgrad\.browser)\.js(\.map)?|dist\/types\/.+\.d\.ts|dist\/web\/[^/]+\.(js|html|css|json)|data\/hippocampus\/.+|models\/[^/]+\.(safetensors|config\.json))$/;
  const stray = paths.filter((p) => !allowed.test(p));
  assert.equal(stray, [], `files that do not belong in the package: ${stray.join(', ')}`);
  // the CLI's demo reads configs/demo.json, whose data paths point into data/hippocampus
  const demo = JSON.parse(readFileSync(join(repoRoot, 'configs/demo.json'), 'utf8'));
  for (const list of [demo.data.train, demo.data.validation]) {
    const listed = readFileSync(join(repoRoot, 'configs', list), 'utf8').split('\n').map((s) => s.trim()).filter(Boolean);
    const missing = listed.filter((id) => !paths.includes(`data/hippocampus/images/${id}`) || !paths.includes(`data/hippocampus/labels/${id}`));
    assert.equal(missing, [], `cases of ${list} missing from the tarball`);
  }
  // every shipped model has its config, and the browser app offers exactly the shipped models
  const models = paths.filter((p) => p.endsWith('.safetensors')).map((p) => p.slice('models/'.length)).sort();
  assert.ok(models.includes('hippocampus-ugmcl-l16-s0.safetensors'), 'the hippocampus UG-MCL model is not shipped');
  for (const m of models) assert.ok(paths.includes(`models/${m.replace(/\.safetensors$/, '.config.json')}`), `${m} ships without its .config.json`);
  assert.equal(JSON.parse(readFileSync(join(dir, 'node_modules/voxgrad/dist/web/models.json'), 'utf8')).sort(), models);
  // the installed dist is this build's, byte for byte
  for (const f of ['dist/index.js', 'dist/voxgrad.browser.js', 'dist/cli.js', 'dist/types/index.d.ts']) {
    assert.ok(readFileSync(join(dir, 'node_modules/voxgrad', f)).equals(readFileSync(join(repoRoot, f))), `installed ${f} differs from the build's`);
  }
  assert.is(manifest.types, './dist/types/index.d.ts');
  assert.is(manifest.exports['.'].types, './dist/types/index.d.ts');
});

test('the public API type-checks against the installed declarations; a type error is reported', () => {
  const tsc = (config: string) => spawnSync(process.execPath, [join(repoRoot, 'node_modules/typescript/bin/tsc'), '-p', config, '--pretty', 'false'],
    { cwd: dir, encoding: 'utf8', timeout: 120_000 });
  const good = tsc('tsconfig.json');
  assert.is(good.status, 0, `tsc -p tsconfig.json (api.ts, browser.ts): ${show(good)}`);
  const bad = tsc('tsconfig.bad.json');
  assert.is.not(bad.status, 0, 'tsc accepted bad.ts');
  assert.match(bad.stdout, /bad\.ts\(4,\d+\): error TS2345: Argument of type 'string' is not assignable to parameter of type 'Tensor'/);
  const errorLines = bad.stdout.split('\n').filter((l) => l.includes('error TS'));
  assert.is(errorLines.length, 1, `only the deliberate error: ${bad.stdout}`);
});

test('Node: a bundled case segmented with the shipped model on wasm, through the public API', () => {
  const r = spawnSync(process.execPath, ['segment.mjs', 'hippocampus_092'], { cwd: dir, encoding: 'utf8', timeout: 120_000 });
  assert.is(r.status, 0, show(r));
  const out = JSON.parse(r.stdout.trim().split('\n').pop()!);
  assert.is(out.backend, 'wasm');
  assert.equal(out.gradient, [2, 4, 6]);
  assert.ok(out.foreground > 0, 'empty prediction');
  assert.ok(out.dice > 0.7, `Dice ${out.dice} on hippocampus_092`);
});

test('npx voxgrad --help, predict --help, and predict --model with a shipped model', () => {
  const npx = (...args: string[]) => npm(['exec', '--no', '--offline', '--', 'voxgrad', ...args], dir, 120_000);
  const help = npx('--help');
  assert.is(help.status, 0, show(help));
  assert.match(help.stdout + help.stderr, 'usage: voxgrad <command>');
  const predictHelp = npx('predict', '--help');
  assert.is(predictHelp.status, 0, show(predictHelp));
  assert.match(predictHelp.stdout + predictHelp.stderr, 'usage: voxgrad predict');
  assert.match(predictHelp.stdout + predictHelp.stderr, 'hippocampus-ugmcl-l16-s0');
  const predict = npx('predict', '--model', 'hippocampus-ugmcl-l16-s0', '--backend', 'wasm',
    '--input', 'node_modules/voxgrad/data/hippocampus/images/hippocampus_092.nii.gz', '--out', 'masks');
  assert.is(predict.status, 0, show(predict));
  assert.ok(existsSync(join(dir, 'masks', 'hippocampus_092.nii.gz')), 'no mask written');
});

test('esbuild bundles the browser entry for browsers without Node built-ins', () => {
  const r = spawnSync(join(repoRoot, 'node_modules/.bin/esbuild'), ['browser.ts', '--bundle', '--platform=browser', '--format=esm',
    '--outfile=web/bundle.js', '--metafile=web/meta.json', '--log-level=warning'], { cwd: dir, encoding: 'utf8', timeout: 120_000 });
  assert.is(r.status, 0, `esbuild --platform=browser: ${show(r)}`);
  const meta = JSON.parse(readFileSync(join(dir, 'web/meta.json'), 'utf8'));
  const inputs = Object.keys(meta.inputs);
  assert.ok(inputs.includes('node_modules/voxgrad/dist/voxgrad.browser.js'), `not the browser build: ${inputs.join(', ')}`);
  const nodeInputs = inputs.filter((p) => /^node:|(^|\/)node_modules\/(webgpu)\//.test(p));
  assert.equal(nodeInputs, [], 'Node-only modules in the browser bundle');
  const imports = Object.values(meta.outputs as Record<string, { imports: { path: string }[] }>).flatMap((o) => o.imports.map((i) => i.path));
  assert.equal(imports.filter((p) => p.startsWith('node:') || p === 'webgpu'), [], 'the browser bundle imports Node built-ins');
});

test.run();
