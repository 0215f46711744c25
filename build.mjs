// One build for everything: the library (Node and browser bundles), the CLI, and each test and
// benchmark as its own bundle, so WGSL and wasm imports resolve the same way everywhere.
import { build } from 'esbuild';
import { readdirSync, existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';

const loader = { '.wgsl': 'text', '.wasm': 'binary' };
const external = ['webgpu', 'uvu', 'uvu/*', 'h5wasm', 'playwright-core'];
const common = { bundle: true, format: 'esm', loader, sourcemap: 'linked', logLevel: 'warning', target: 'es2022' };

const filesIn = (dir, re) => (existsSync(dir) ? readdirSync(dir).filter((f) => re.test(f)).map((f) => join(dir, f)) : []);

rmSync('build', { recursive: true, force: true });
await Promise.all([
  build({ ...common, platform: 'node', entryPoints: ['index.ts', 'cli.ts'].filter(existsSync), outdir: 'dist', external }),
  build({ ...common, platform: 'browser', entryPoints: ['index.ts'], outfile: 'dist/voxgrad.browser.js',
          external: ['webgpu', 'node:*', 'h5wasm'] }),
  build({ ...common, platform: 'node', entryPoints: [...filesIn('test', /\.test\.ts$/), ...filesIn('bench', /\.ts$/)],
          outdir: 'build', outbase: '.', external }),
]);
