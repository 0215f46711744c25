// One build for everything: the library (Node and browser bundles), the CLI, and each test and
// benchmark as its own bundle, so WGSL and wasm imports resolve the same way everywhere.
import { build } from 'esbuild';
import asc from 'assemblyscript/asc';
import { copyFileSync, readdirSync, existsSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';

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

rmSync('build', { recursive: true, force: true });
await Promise.all([
  build({ ...common, platform: 'node', entryPoints: ['index.ts', 'cli.ts'].filter(existsSync), outdir: 'dist', external }),
  build({ ...common, platform: 'browser', entryPoints: ['index.ts'], outfile: 'dist/voxgrad.browser.js',
          external: ['webgpu', 'node:*', 'h5wasm'] }),
  build({ ...common, platform: 'node', entryPoints: [...filesIn('test', /\.test\.ts$/), ...filesIn('bench', /\.ts$/)],
          outdir: 'build', outbase: '.', external }),
  build({ ...common, platform: 'browser', entryPoints: { app: 'web/app/main.ts', 'train-worker': 'web/app/train-worker.ts' }, outdir: 'dist/web',
          external: ['webgpu', 'node:*', 'h5wasm'] }),
]);
// The browser app's static files beside its bundle, and the shipped models it offers by name (the
// server lists no folders).
for (const f of ['index.html', 'style.css']) copyFileSync(join('web/app', f), join('dist/web', f));
writeFileSync('dist/web/models.json', JSON.stringify(filesIn('models', /\.safetensors$/).map((f) => basename(f))));
