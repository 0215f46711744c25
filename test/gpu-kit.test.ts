// bench/gpu.sh's setup (--setup-only) on a fake kit and a fake driver tree, without the network: it
// unpacks the kit's Node (xz, or Python's lzma), the libvulkan1 .deb (dpkg-deb, ar + tar, or its own
// Python reader of ar archives) and the bundles, puts them first on PATH and LD_LIBRARY_PATH, and
// picks the Vulkan driver: NVIDIA's ICD json where one is, one written for libGLX_nvidia.so.0 where
// only the library is, the loader's own choice otherwise, a given VK_ICD_FILENAMES untouched.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { repoRoot } from './helpers/fixtures.ts';

const test = suite('gpu-kit');
const has = (tool: string) => spawnSync('sh', ['-c', `command -v ${tool}`]).status === 0;
const python = existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';
const root = mkdtempSync(join(tmpdir(), 'voxgrad-gpu-kit-'));
const kit = join(root, 'kit');

function put(path: string, text: string) {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, text);
}
function run(cmd: string, args: string[], opts: { cwd?: string; input?: Buffer } = {}): Buffer {
  const r = spawnSync(cmd, args, { ...opts, maxBuffer: 1 << 26 });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}
/** An ar archive as .deb files are: the magic, then 60-byte headers, members padded to even sizes. */
function arArchive(members: [string, Buffer][]): Buffer {
  const parts: Buffer[] = [Buffer.from('!<arch>\n')];
  for (const [name, body] of members) {
    parts.push(Buffer.from(`${name.padEnd(16)}${'0'.padEnd(12)}${'0'.padEnd(6)}${'0'.padEnd(6)}${'100644'.padEnd(8)}${String(body.length).padEnd(10)}\`\n`));
    parts.push(body, Buffer.alloc(body.length & 1, '\n'));
  }
  return Buffer.concat(parts);
}

// The kit: a "node" that prints a version, a .deb whose loader is a marked file behind the usual
// libvulkan.so.1 link, and an app tarball.
const stage = join(root, 'stage');
put(join(stage, 'node'), '#!/bin/sh\necho v99.0.0-fake\n');
put(join(stage, 'data/usr/lib/x86_64-linux-gnu/libvulkan.so.1.9.9'), 'fake loader\n');
symlinkSync('libvulkan.so.1.9.9', join(stage, 'data/usr/lib/x86_64-linux-gnu/libvulkan.so.1'));
put(join(stage, 'control/control'), 'Package: libvulkan1\nVersion: 1.9.9\nArchitecture: amd64\nMaintainer: none\nDescription: fake\n');
put(join(stage, 'app/build/bench/run.js'), 'console.log("bench")\n');
put(join(stage, 'app/node_modules/webgpu/index.js'), 'export {}\n');
mkdirSync(kit);
writeFileSync(join(kit, 'node.xz'), run('xz', ['-c', join(stage, 'node')]));
writeFileSync(join(kit, 'app.tar.xz'), run('tar', ['-cJf', '-', '-C', join(stage, 'app'), 'build', 'node_modules']));
writeFileSync(join(kit, 'libvulkan1_1.9.9_amd64.deb'), arArchive([
  ['debian-binary', Buffer.from('2.0\n')],
  ['control.tar.gz', run('tar', ['-czf', '-', '-C', join(stage, 'control'), '.'])],
  ['data.tar.gz', run('tar', ['-czf', '-', '-C', join(stage, 'data'), '.'])],
]));
writeFileSync(join(kit, 'kit.txt'), 'fake\n');

let runs = 0;
/** bench/gpu.sh --setup-only with a fake driver tree; its KEY=value lines, and the work folder. */
function setup(tree: { icdDirs?: Record<string, string>; files?: string[] }, env: Record<string, string> = {}) {
  const base = join(root, `run${runs++}`);
  const icdDirs = [join(base, 'usr/share/vulkan/icd.d'), join(base, 'etc/vulkan/icd.d')];
  icdDirs.forEach((d) => mkdirSync(d, { recursive: true }));
  for (const [name, text] of Object.entries(tree.icdDirs ?? {})) put(join(icdDirs[0], name), text);
  for (const f of tree.files ?? []) put(join(base, f), '');
  const work = join(base, 'work');
  const { VK_ICD_FILENAMES: _a, VK_DRIVER_FILES: _b, ...inherited } = process.env;
  const r = spawnSync('sh', [join(repoRoot, 'bench/gpu.sh'), '--setup-only'], {
    cwd: repoRoot, encoding: 'utf8',
    env: { ...inherited, PYTHON: python, GPU_KIT: kit, GPU_WORK: work, GPU_ICD_DIRS: icdDirs.join(' '),
           GPU_NVIDIA_ROOTS: join(base, 'usr'), LD_LIBRARY_PATH: '/before', ...env },
  });
  const vars = Object.fromEntries(r.stdout.split('\n').filter((l) => /^[A-Z_]+=/.test(l)).map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));
  return { status: r.status, stderr: r.stderr, vars, base, work };
}

const tools = ['ar', 'python', ...(has('dpkg-deb') ? ['dpkg'] : [])];
for (const tool of tools) {
  test(`the kit unpacks with GPU_DEB_TOOL=${tool}; node and libvulkan come first`, () => {
    const s = setup({}, { GPU_DEB_TOOL: tool, GPU_XZ_TOOL: tool === 'python' ? 'python' : 'xz' });
    assert.is(s.status, 0, s.stderr);
    assert.is(s.vars.NODE, join(s.work, 'bin/node'));
    assert.is(s.vars.NODE_VERSION, 'v99.0.0-fake');
    const lib = join(s.work, 'vulkan/usr/lib/x86_64-linux-gnu');
    assert.is(s.vars.LIBVULKAN_DIR, lib);
    assert.is(readFileSync(join(lib, 'libvulkan.so.1'), 'utf8'), 'fake loader\n');
    assert.is(s.vars.LD_LIBRARY_PATH.split(':')[0], lib);
    assert.ok(existsSync(join(s.vars.APP, 'node_modules/webgpu/index.js')));
    assert.ok(existsSync(join(s.vars.APP, 'build/bench/run.js')));
  });
}

test('NVIDIA driver without an ICD json: one is written for libGLX_nvidia.so.0 and named in VK_ICD_FILENAMES', () => {
  const s = setup({ icdDirs: { 'lvp_icd.x86_64.json': '{}' }, files: ['usr/lib/x86_64-linux-gnu/libGLX_nvidia.so.0'] });
  assert.is(s.status, 0, s.stderr);
  assert.is(s.vars.VK_ICD_FILENAMES, join(s.work, 'nvidia_icd.json'));
  const icd = JSON.parse(readFileSync(s.vars.VK_ICD_FILENAMES, 'utf8'));
  assert.is(icd.file_format_version, '1.0.0');
  assert.is(icd.ICD.library_path, join(s.base, 'usr/lib/x86_64-linux-gnu/libGLX_nvidia.so.0'));
});

test("NVIDIA's ICD json in a standard place: nothing written, the loader finds it", () => {
  const s = setup({ icdDirs: { 'nvidia_icd.json': '{}' }, files: ['usr/lib/x86_64-linux-gnu/libGLX_nvidia.so.0'] });
  assert.is(s.status, 0, s.stderr);
  assert.is(s.vars.VK_ICD_FILENAMES, '');
  assert.not.ok(existsSync(join(s.work, 'nvidia_icd.json')));
});

test("NVIDIA's ICD json elsewhere under the roots is named as it is", () => {
  const s = setup({ files: ['usr/share/glvnd/nvidia_icd.json', 'usr/lib/x86_64-linux-gnu/libGLX_nvidia.so.0'] });
  assert.is(s.status, 0, s.stderr);
  assert.is(s.vars.VK_ICD_FILENAMES, join(s.base, 'usr/share/glvnd/nvidia_icd.json'));
});

test('no driver at all, or VK_ICD_FILENAMES given: nothing written', () => {
  const none = setup({});
  assert.is(none.status, 0, none.stderr);
  assert.is(none.vars.VK_ICD_FILENAMES, '');
  assert.match(none.vars.ICD_NOTE, /no Vulkan ICD found/);
  const given = setup({ files: ['usr/lib/libGLX_nvidia.so.0'] }, { VK_ICD_FILENAMES: '/somewhere/icd.json' });
  assert.is(given.vars.VK_ICD_FILENAMES, '/somewhere/icd.json');
  assert.not.ok(existsSync(join(given.work, 'nvidia_icd.json')));
});

test('without a kit it stops and says how to make one', () => {
  const s = setup({}, { GPU_KIT: join(root, 'no-kit') });
  assert.is.not(s.status, 0);
  assert.match(s.stderr, /gpu-prepare\.sh/);
});

test.after(() => rmSync(root, { recursive: true, force: true }));
test.run();
