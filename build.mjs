// One build for everything: the library (Node and browser bundles), the CLI, and each test and
// benchmark as its own bundle, so WGSL and wasm imports resolve the same way everywhere.
import { build } from 'esbuild';
import asc from 'assemblyscript/asc';
import { spawnSync } from 'node:child_process';
import { copyFileSync, readdirSync, readFileSync, existsSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const loader = { '.wgsl': 'text', '.wasm': 'binary' };
const external = ['webgpu', 'uvu', 'uvu/*', 'h5wasm', 'playwright-core', '@tensorflow/*', 'esbuild'];
const common = { bundle: true, format: 'esm', loader, sourcemap: 'linked', logLevel: 'warning', target: 'es2022' };

const filesIn = (dir, re) => (existsSync(dir) ? readdirSync(dir).filter((f) => re.test(f)).map((f) => join(dir, f)) : []);

// The wasm backend's kernels (asm/) in four variants: plain SIMD or relaxed SIMD (fused multiply-add),
// each with private memory (one thread) or shared memory (a thread pool). Rebuilt when asm/ changes.
const ascVariants = {
  'simd.wasm': ['--enable', 'simd'],
  'simd-shared.wasm': ['--enable', 'simd,threads', '--sharedMemory'],
  'relaxed.wasm': ['--enable', 'simd,relaxed-simd'],
  'relaxed-shared.wasm': ['--enable', 'simd,relaxed-simd,threads', '--sharedMemory'],
};
const asmSources = filesIn('asm', /\.ts$/);
const newestSource = Math.max(...asmSources.map((f) => statSync(f).mtimeMs), statSync('build.mjs').mtimeMs);
for (const [name, flags] of Object.entries(ascVariants)) {
  const out = join('asm/build', name);
  if (existsSync(out) && statSync(out).mtimeMs > newestSource) continue;
  const messages = [];
  const { error } = await asc.main(['asm/index.ts', '-o', out, '-O3', '--noAssert', '--runtime', 'stub',
    '--importMemory', '--initialMemory', '1', '--maximumMemory', '65536', ...flags],
    { stderr: { write: (text) => { messages.push(String(text)); return true; } } });
  // asc's warnings (v128 in exported signatures) are expected; its errors stop the build
  if (error) throw new Error(`asc failed on asm/ (${name}): ${error.message}\n${messages.join('')}`);
}

// The browser bundle is for other people's bundlers too, which refuse Node built-ins when they build
// for browsers: the Node-only paths (node:fs, node:zlib, worker_threads, Dawn's 'webgpu', all behind
// run-time checks for Node) get a module that throws if it is ever reached, instead of an import.
const nodeOnlyStub = {
  name: 'node-only-stub',
  setup(b) {
    b.onResolve({ filter: /^(node:.*|webgpu)$/ }, (args) => ({ path: args.path, namespace: 'node-only' }));
    b.onLoad({ filter: /.*/, namespace: 'node-only' }, (args) => ({
      contents: `throw new Error(${JSON.stringify(`voxgrad: ${args.path} is Node-only; this browser build cannot use it`)});`,
    }));
  },
};

rmSync('build', { recursive: true, force: true });
await Promise.all([
  build({ ...common, platform: 'node', entryPoints: ['index.ts', 'cli.ts'].filter(existsSync), outdir: 'dist', external }),
  build({ ...common, platform: 'browser', entryPoints: ['index.ts'], outfile: 'dist/voxgrad.browser.js',
          external: ['h5wasm'], plugins: [nodeOnlyStub] }),
  build({ ...common, platform: 'node', entryPoints: [...filesIn('test', /\.test\.ts$/), ...filesIn('bench', /\.ts$/)],
          outdir: 'build', outbase: '.', external }),
  build({ ...common, platform: 'browser', entryPoints: { app: 'web/app/main.ts', 'train-worker': 'web/app/train-worker.ts' }, outdir: 'dist/web',
          external: ['webgpu', 'node:*', 'h5wasm'] }),
]);
// The browser app's static files beside its bundle, and the shipped models it offers by name (the
// server lists no folders): those that package.json's "files" ships, so that the installed package
// offers none it lacks.
for (const f of ['index.html', 'style.css']) copyFileSync(join('web/app', f), join('dist/web', f));
const shipped = JSON.parse(readFileSync('package.json', 'utf8')).files.flatMap((f) => f.match(/^models\/([^/*]+\.safetensors)$/)?.[1] ?? []);
writeFileSync('dist/web/models.json', JSON.stringify(shipped.filter((f) => existsSync(join('models', f)))));

// Type declarations of the public API (index.ts and what it reaches) in dist/types, for package.json's
// "types". tsc keeps the sources' .ts import paths in declarations; they become .js, which every
// moduleResolution (node16, nodenext, bundler) maps to the .d.ts beside it.
rmSync('dist/types', { recursive: true, force: true });
const tsc = spawnSync(process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.types.json'], { encoding: 'utf8' });
if (tsc.status !== 0) throw new Error(`tsc -p tsconfig.types.json (the declarations) failed:\n${tsc.stdout}${tsc.stderr}`);
const relativeTs = /((?:from|import)\s*\(?\s*['"])(\.{1,2}\/[^'"]*?)\.ts(['"])/g;
const rewrite = (dir) => {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) rewrite(path);
    else if (entry.name.endsWith('.d.ts')) writeFileSync(path, readFileSync(path, 'utf8').replace(relativeTs, '$1$2.js$3'));
  }
};
rewrite('dist/types');
